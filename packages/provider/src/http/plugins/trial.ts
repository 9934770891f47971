/**
 * In trial mode every reply carries the trial header, and a JSON reply that says when a delay
 * ends also says, in its body, that the delays are shortened: whoever reads only the body of
 * "takes effect at …" must not take it for a production delay.
 */
import { TRIAL_HEADER } from "@keyshard/transport";
import { TRIAL_NOTICE } from "../../delays.js";
import type { App } from "../app.js";

/** Reply fields that say when something waited out takes effect. */
const DELAY_FIELDS = /"(effectiveMs|effectiveAt|readyAt|releaseMs|availableAt|coolingOff\w*)":/;

export function trialPlugin(app: App): void {
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header(TRIAL_HEADER, TRIAL_NOTICE);
    if (!request.url.startsWith("/v1/") || typeof payload !== "string" || !DELAY_FIELDS.test(payload)) return payload;
    const body = JSON.parse(payload) as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) return payload;
    return JSON.stringify({ ...body, trial: TRIAL_NOTICE });
  });
}
