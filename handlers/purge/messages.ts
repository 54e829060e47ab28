/**
 * What the purge queue carries: S3 events as EventBridge delivers them (`detail-type` "Object
 * Created" or "Object Deleted", `detail.object.key` the key as stored, not URL-encoded unlike
 * S3's older direct notifications). Pure parsing: a body that is not such an event gives no key
 * and a reason, so one bad message never blocks the batch.
 */

const CHANGE_TYPES = new Set(["Object Created", "Object Deleted"]);

export type ParsedMessage = { key: string } | { skipped: string };

export function changedKeyOf(body: string): ParsedMessage {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return { skipped: "not JSON" };
  }
  const e = event as { source?: unknown; "detail-type"?: unknown; detail?: { object?: { key?: unknown } } };
  if (e?.source !== "aws.s3" || typeof e["detail-type"] !== "string" || !CHANGE_TYPES.has(e["detail-type"])) {
    return { skipped: "not an S3 Object Created/Deleted event" };
  }
  const key = e.detail?.object?.key;
  if (typeof key !== "string" || key === "") return { skipped: "event without an object key" };
  return { key };
}
