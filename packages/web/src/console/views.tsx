/**
 * The console's screens but the audit: the provider's overview, accounts with their devices,
 * held requests with what each waits for, recovery and heir activity, and wallets' policies.
 * Each loads its data when it appears, with the operator's token.
 */
import { useId } from "react";
import { useQuery } from "../use-query.js";
import { type Account, consoleApi, type HeldRequest, type WaitingFor } from "./api.js";
import { CapNote, ConsoleAlert, LONG, longShown, shown, Table, when } from "./show.js";

const byName = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([name, n]) => `${shown(name)} ${n}`)
    .join(", ") || "none";

function Loading({ loaded }: { loaded: boolean }) {
  return (
    <p role="status" className="status">
      {loaded ? "" : "Loading…"}
    </p>
  );
}

export function OverviewView({ token }: { token: string }) {
  const { value, error } = useQuery(() => consoleApi.overview(token), [token]);
  return (
    <>
      <ConsoleAlert error={error} />
      <Loading loaded={value !== undefined || error !== undefined} />
      {value && (
        <dl className="review">
          <div>
            <dt>Version</dt>
            <dd>{shown(value.version)}</dd>
          </div>
          <div>
            <dt>Running since</dt>
            <dd>{`${when(value.startedAtMs)} (${Math.floor(value.uptimeSeconds / 60)} min)`}</dd>
          </div>
          <div>
            <dt>Database</dt>
            <dd>{`${shown(value.database.kind)}, ${value.database.reachable ? "reachable" : "NOT reachable"}`}</dd>
          </div>
          {value.trial && (
            <div>
              <dt>Trial mode</dt>
              <dd>on: delays shortened, not for real funds</dd>
            </div>
          )}
          {value.counts && (
            <>
              <div>
                <dt>Accounts</dt>
                <dd>{value.counts.accounts}</dd>
              </div>
              <div>
                <dt>Devices</dt>
                <dd>{byName(value.counts.devices)}</dd>
              </div>
              <div>
                <dt>Wallets</dt>
                <dd>{byName(value.counts.wallets)}</dd>
              </div>
              <div>
                <dt>Requests</dt>
                <dd>{byName(value.counts.requests)}</dd>
              </div>
            </>
          )}
          <div>
            <dt>ecdsa2p runs</dt>
            <dd>{`${value.signRuns.precomputedAhead} precomputed ahead, ${value.signRuns.precomputedInRun} in the run (since start)`}</dd>
          </div>
        </dl>
      )}
    </>
  );
}

export function AccountsView({ token }: { token: string }) {
  const { value, error } = useQuery(() => consoleApi.accounts(token), [token]);
  return (
    <>
      <ConsoleAlert error={error} />
      <Loading loaded={value !== undefined || error !== undefined} />
      {value && <CapNote list={value} shownCount={value.accounts.length} noun="accounts" />}
      {value?.accounts.map((account) => (
        <AccountCard key={account.id} account={account} />
      ))}
    </>
  );
}

/** An account with its devices: an article (not a region: a list of them would flood the page's landmarks), named by its heading. */
function AccountCard({ account }: { account: Account }) {
  const headingId = useId();
  const listed = account.devices.length;
  return (
    <article className="console-card" aria-labelledby={headingId}>
      <h2 id={headingId}>{shown(account.email)}</h2>
      <p className="hint">
        {`Account ${shown(account.id)}, created ${when(account.createdMs)}${account.verified ? "" : ", email not verified"}${
          account.lastActiveMs === null ? "" : `, last active ${when(account.lastActiveMs)}`
        }`}
      </p>
      {account.devicesTotal > listed && (
        <p className="hint">{`${listed} of its ${account.devicesTotal} devices are listed: unverified registrations last.`}</p>
      )}
      <Table
        caption="Devices"
        head={["Name", "State", "Created", "Id"]}
        rows={account.devices.map((d) => [shown(d.name), shown(d.state), when(d.createdMs), shown(d.id)])}
      />
    </article>
  );
}

/** What a held request waits for, in words. */
function waitingWords(waiting: WaitingFor): string {
  const parts: string[] = [];
  if (waiting.approvals) parts.push(`approvals: ${waiting.approvals.have} of ${waiting.approvals.needed}`);
  if (waiting.totp) parts.push("a TOTP code");
  if (waiting.releaseMs !== undefined) parts.push(`its release at ${when(waiting.releaseMs)}`);
  return parts.length === 0 ? "nothing: its device may start signing" : parts.join("; ");
}

function HeldCard({ request }: { request: HeldRequest }) {
  const headingId = useId();
  const rule =
    request.rule === null
      ? "(unnamed rule)"
      : `${request.ruleNumber === null ? "" : `rule ${request.ruleNumber}, `}“${shown(request.rule)}”`;
  return (
    <article className="console-card" aria-labelledby={headingId}>
      <h2 id={headingId}>{`${shown(request.walletName)}: ${shown(request.kind)} on ${shown(request.chain)}`}</h2>
      <dl className="review">
        <div>
          <dt>Request</dt>
          <dd>{shown(request.id)}</dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd>{`${shown(request.email)} (${shown(request.accountId)})`}</dd>
        </div>
        <div>
          <dt>Wallet</dt>
          <dd>{`${shown(request.walletName)} (${shown(request.walletId)})`}</dd>
        </div>
        <div>
          <dt>Asked by</dt>
          <dd>{`${shown(request.requestedBy.name)} (${shown(request.requestedBy.deviceId)}), ${when(request.createdMs)}`}</dd>
        </div>
        <div>
          <dt>Held by</dt>
          <dd>{`${rule}: ${shown(request.decision)}`}</dd>
        </div>
        <div>
          <dt>Waits for</dt>
          <dd>{waitingWords(request.waitingFor)}</dd>
        </div>
        {request.approvals.length > 0 && (
          <div>
            <dt>Approvals</dt>
            <dd>
              {request.approvals
                .map(
                  (a) => `${shown(a.deviceId)} at ${when(a.atMs)}${a.counts ? "" : " (revoked device: not counted)"}`,
                )
                .join("; ")}
            </dd>
          </div>
        )}
      </dl>
    </article>
  );
}

export function HeldRequestsView({ token }: { token: string }) {
  const { value, error } = useQuery(() => consoleApi.heldRequests(token), [token]);
  return (
    <>
      <ConsoleAlert error={error} />
      <Loading loaded={value !== undefined || error !== undefined} />
      {value && <CapNote list={value} shownCount={value.requests.length} noun="held requests" />}
      {value?.requests.map((request) => (
        <HeldCard key={request.id} request={request} />
      ))}
    </>
  );
}

export function RecoveryView({ token }: { token: string }) {
  const { value, error } = useQuery(() => consoleApi.recovery(token), [token]);
  return (
    <>
      <ConsoleAlert error={error} />
      <Loading loaded={value !== undefined || error !== undefined} />
      {value && (
        <>
          <h2>Face recoveries</h2>
          <CapNote
            list={{ limit: value.limit, total: value.recoveriesTotal }}
            shownCount={value.recoveries.length}
            noun="face recoveries"
          />
          <Table
            caption="Face recoveries, newest first"
            head={["When", "Account", "New device", "Status", "Holds transfers until", "Decided"]}
            rows={value.recoveries.map((r) => [
              when(r.atMs),
              shown(r.accountId),
              `${shown(r.device.name)} (${shown(r.device.id)})`,
              shown(r.status),
              when(r.holdUntilMs),
              r.decidedMs === null ? "" : `${when(r.decidedMs)} by ${shown(r.decidedBy ?? "")}`,
            ])}
          />
          <h2>Face enrollments: owners and heirs</h2>
          <CapNote
            list={{ limit: value.limit, total: value.enrollmentsTotal }}
            shownCount={value.enrollments.length}
            noun="enrollments"
          />
          <Table
            caption="Enrollments, newest first"
            head={["Created", "Kind", "Account", "Email", "Status", "Heir after inactivity", "Changed"]}
            rows={value.enrollments.map((e) => [
              when(e.createdMs),
              shown(e.kind),
              shown(e.accountId),
              shown(e.email),
              shown(e.status),
              e.inactivityMs === null ? "" : `${Math.round(e.inactivityMs / 86_400_000)} days`,
              e.changedMs === null ? "" : when(e.changedMs),
            ])}
          />
        </>
      )}
    </>
  );
}

export function PoliciesView({ token }: { token: string }) {
  const { value, error } = useQuery(() => consoleApi.policies(token), [token]);
  return (
    <>
      <ConsoleAlert error={error} />
      <Loading loaded={value !== undefined || error !== undefined} />
      <p>
        A new wallet's policy is a copy of one of the policy templates below (the first unless its device chooses
        another, or sends a policy of its own); each wallet's policy in force is listed after them. Amounts are in base
        units.
      </p>
      {value && (
        <>
          <h2>Policy templates</h2>
          <ul className="templates">
            {value.templates.map((t) => (
              <li key={t.id}>
                <h3>
                  <bdi>{shown(t.name)}</bdi> <span className="hint">({shown(t.id)})</span>
                </h3>
                {t.description !== "" && (
                  <p>
                    <bdi>{shown(t.description)}</bdi>
                  </p>
                )}
                <ul className="rules">
                  {t.rules.map((rule) => (
                    <li key={rule}>
                      <bdi>{shown(rule, LONG)}</bdi>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
          <h2>Wallets' policies in force</h2>
          <CapNote list={value} shownCount={value.wallets.length} noun="wallets" />
          <Table
            caption="Wallets' policies in force, newest wallets first"
            head={["Wallet", "Account", "Scheme", "State", "Policy", "Next change"]}
            rows={value.wallets.map((w) => [
              `${shown(w.name)} (${shown(w.id)})`,
              shown(w.accountId),
              shown(w.scheme),
              shown(w.state),
              longShown(w.policy, w.policyLength),
              w.nextChangeMs === null ? "" : when(w.nextChangeMs),
            ])}
          />
        </>
      )}
    </>
  );
}
