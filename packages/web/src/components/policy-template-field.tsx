/**
 * The "Policy" select of the new-wallet forms: the provider's policy templates, its default first
 * and chosen until another is, with the chosen one's description and rules in words under it.
 * Names, descriptions and rules are the provider operator's text, made showable by the engine and
 * set apart with <bdi> so that none can turn the text around it.
 */
import { useId } from "react";
import type { Engine } from "../engine/client.js";
import { useQuery } from "../use-query.js";
import { ErrorMessage } from "./error-message.js";

/** `value`: the chosen template's id; null until one is chosen, which is the provider's default. */
export function PolicyTemplateField({
  engine,
  value,
  onValue,
}: {
  engine: Engine;
  value: string | null;
  onValue(id: string): void;
}) {
  const id = useId();
  const templates = useQuery(() => engine.call("policyTemplates", {}), [engine]);
  const list = templates.value ?? [];
  const chosen = list.find((t) => t.id === value) ?? list[0];
  if (templates.error !== undefined) return <ErrorMessage error={templates.error} />;
  if (chosen === undefined) return null;
  return (
    <div className="field">
      <label htmlFor={id}>Policy</label>
      <select
        id={id}
        value={chosen.id}
        aria-describedby={`${id}-description`}
        onChange={(event) => onValue(event.target.value)}
      >
        {list.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      <p id={`${id}-description`} className="hint">
        <bdi>{chosen.description || chosen.name}</bdi>
      </p>
      <details>
        <summary>Its rules</summary>
        <ul className="rules">
          {chosen.rules.map((rule) => (
            <li key={rule}>
              <bdi>{rule}</bdi>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
