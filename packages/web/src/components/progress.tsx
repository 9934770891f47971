/**
 * A long step's progress: an indeterminate native progress bar (role "progressbar") named by
 * `label` while `status` is set. The status text's live region stays mounted, empty between
 * steps, so that assistive technology announces each text it is given.
 */
export function Progress({ label, status }: { label: string; status: string | null }) {
  return (
    <div className="progress">
      {status !== null && <progress aria-label={label} />}
      <p role="status" aria-live="polite">
        {status ?? ""}
      </p>
    </div>
  );
}
