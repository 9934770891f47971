/**
 * An error shown to the person: the message, and what to do next when the SDK says, in an
 * element with `role="alert"` so that assistive technology reads it out at once. It can take the
 * focus (`ref`), so that the person lands on it when nothing more fitting can.
 */
import type { Ref } from "react";
import { EngineCallError } from "../engine/client.js";

function describe(error: unknown): { message: string; next: string | null } {
  if (error instanceof EngineCallError) return { message: error.message, next: error.next };
  if (error instanceof Error) return { message: error.message, next: null };
  return { message: String(error), next: null };
}

export function ErrorMessage({ error, ref }: { error: unknown; ref?: Ref<HTMLDivElement> }) {
  if (error === undefined) return null;
  const { message, next } = describe(error);
  // The space keeps the two sentences apart in the alert's text, which is what a screen reader reads.
  return (
    <div role="alert" className="error" tabIndex={-1} ref={ref}>
      <p>{message}</p> {next !== null && <p>{next}</p>}
    </div>
  );
}
