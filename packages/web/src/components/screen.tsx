/**
 * One screen of the app: its heading takes the focus when the screen appears, so that keyboard
 * and screen reader users start on the new screen instead of somewhere in the old one.
 */
import { type ReactNode, useEffect, useRef } from "react";

export function Screen({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main className="screen">
      <h1 tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </main>
  );
}
