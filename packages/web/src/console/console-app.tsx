/**
 * The operator console: asks for the console token, checks it against the provider, and then
 * shows its screens. The token lives in this component's state only — never in storage, a URL or
 * a cookie — so closing or reloading the page forgets it.
 */
import { type FormEvent, useState } from "react";
import { Field } from "../components/field.js";
import { Screen } from "../components/screen.js";
import { Sections } from "../components/sections.js";
import { useAction } from "../use-action.js";
import { consoleApi } from "./api.js";
import { AuditView } from "./audit.js";
import { ConsoleAlert } from "./show.js";
import { AccountsView, HeldRequestsView, OverviewView, PoliciesView, RecoveryView } from "./views.js";

const VIEWS = {
  overview: OverviewView,
  accounts: AccountsView,
  held: HeldRequestsView,
  audit: AuditView,
  recovery: RecoveryView,
  policies: PoliciesView,
} as const;
type Section = keyof typeof VIEWS;

const SECTIONS: readonly { screen: Section; label: string }[] = [
  { screen: "overview", label: "Overview" },
  { screen: "accounts", label: "Accounts & devices" },
  { screen: "held", label: "Held requests" },
  { screen: "audit", label: "Audit" },
  { screen: "recovery", label: "Recovery & heirs" },
  { screen: "policies", label: "Policies" },
];

function SignIn({ onToken }: { onToken: (token: string) => void }) {
  const [candidate, setCandidate] = useState("");
  const action = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run("Checking the token…", async () => {
      await consoleApi.overview(candidate);
      onToken(candidate);
    });
  };
  return (
    <Screen title="Provider console">
      <ConsoleAlert error={action.error} ref={action.alert} />
      <form onSubmit={submit}>
        <Field
          label="Console token"
          hint="The KEYSHARD_CONSOLE_TOKEN the provider was started with. It is kept by this page only while it is open."
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={candidate}
          onValue={setCandidate}
          invalid={action.error === undefined ? undefined : true}
        />
        <button type="submit" aria-disabled={action.busy !== null}>
          Open the console
        </button>
      </form>
      <p role="status" className="status">
        {action.busy ?? ""}
      </p>
    </Screen>
  );
}

function Console({ token, onLeave }: { token: string; onLeave: () => void }) {
  const [section, setSection] = useState<Section>("overview");
  const View = VIEWS[section];
  const title = SECTIONS.find((s) => s.screen === section)?.label ?? section;
  return (
    <div className="console">
      <Sections<Section> sections={SECTIONS} current={section} onGo={setSection} />
      <Screen key={section} title={title}>
        <View token={token} />
        <p>
          <button type="button" className="secondary" onClick={onLeave}>
            Forget the token
          </button>
        </p>
      </Screen>
    </div>
  );
}

export function ConsoleApp() {
  const [token, setToken] = useState<string | null>(null);
  if (token === null) return <SignIn onToken={setToken} />;
  return <Console token={token} onLeave={() => setToken(null)} />;
}
