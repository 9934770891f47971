/**
 * The way back from a screen to the one it was opened from: a real link (to the app's start, so
 * that it works as a link for assistive technology and a middle click) whose click goes back
 * within the app instead of reloading it.
 */
export function BackLink({ label, onBack }: { label: string; onBack(): void }) {
  return (
    <nav>
      <a
        href={import.meta.env.BASE_URL}
        onClick={(event) => {
          event.preventDefault();
          onBack();
        }}
      >
        {label}
      </a>
    </nav>
  );
}
