/**
 * How a message or EIP-712 typed data is shown before it is signed or approved: the decoded
 * description of `@keyshard/chains` laid out for a terminal, a token approval first and in
 * capitals, since that is what a signature on typed data most often gives away.
 */
import type { TransactionDescription, TypedDataDescription, TypedField } from "@keyshard/chains";
import type { MessageRequestDescription } from "../../requests.js";
import { describeForPeople } from "./display.js";

function fieldLines(fields: readonly TypedField[], depth: number): string[] {
  const indent = "  ".repeat(depth);
  return fields.flatMap((f) =>
    f.fields === undefined
      ? [`${indent}${f.name} (${f.type}): ${f.value}`]
      : [`${indent}${f.name} (${f.type}):`, ...fieldLines(f.fields, depth + 1)],
  );
}

function typedDataLines(d: TypedDataDescription): string[] {
  const { name, version, chainId, verifyingContract, salt } = d.domain;
  const lines = [
    `EIP-712 typed data: ${d.primaryType}`,
    `  domain: ${[
      name !== undefined && `name ${name}`,
      version !== undefined && `version ${version}`,
      chainId !== undefined && `chain ${chainId}`,
      verifyingContract !== undefined && `contract ${verifyingContract}`,
      salt !== undefined && `salt ${salt}`,
    ]
      .filter(Boolean)
      .join(", ")}`,
  ];
  if (d.approval !== undefined) {
    lines.push(`  TOKEN APPROVAL (${d.approval.standard}): no transaction needed to use it`);
    if (d.approval.owner !== undefined) lines.push(`    owner ${d.approval.owner}`);
    for (const a of d.approval.approvals)
      lines.push(
        `    allow spender ${a.spender} to take ${a.text} (token ${a.asset.contract})${a.expires === undefined ? "" : `, allowance expires ${a.expires}`}`,
      );
    if (d.approval.deadline !== undefined) lines.push(`    signature usable until ${d.approval.deadline}`);
  }
  lines.push("  fields:", ...fieldLines(d.fields, 2));
  return lines;
}

/** A message (as text lines or hex) or typed data, with its warnings. */
export function messageForPeople(d: MessageRequestDescription): string {
  const lines =
    d.kind === "typed-data"
      ? typedDataLines(d)
      : [
          `${d.chain === "bitcoin" ? "BIP322" : "EIP-191"} message, ${d.length} bytes${d.encoding === "hex" ? ", as hex" : ""}:`,
          ...d.shown.split("\n").map((line) => `  | ${line}`),
        ];
  for (const w of d.warnings) lines.push(`  ! ${w}`);
  return lines.join("\n");
}

/** Whatever a request is — a transaction, a message, typed data — as a person reads it. */
export function requestForPeople(d: TransactionDescription | MessageRequestDescription): string {
  return "kind" in d ? messageForPeople(d) : describeForPeople(d);
}
