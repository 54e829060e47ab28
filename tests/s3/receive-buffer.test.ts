import test from "ava";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { renderOriginal, type StandIn } from "../../handlers/origin-response.js";
import { basePlan } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../../handlers/core/settings.js";
import { renderVariant, type RenderedVariant } from "../../handlers/render/pipeline.js";
import { ReceiveBuffer } from "../../handlers/s3/receive-buffer.js";
import type { S3Answer } from "../../handlers/s3/client.js";
import { s3ObjectStore } from "../../handlers/s3/store.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createHandlerS3Client, createS3Client, startEmbeddedS3 } from "../../local/s3.js";
import { progressiveJpeg } from "../helpers/jpeg.js";

const sameMemory = (a: Buffer, b: Buffer) => a.buffer === b.buffer && a.byteOffset === b.byteOffset;

test("one lease at a time reuses the retained memory; a concurrent lease or a body over the cap gets its own", (t) => {
  const buffers = new ReceiveBuffer(1000);
  const first = buffers.lease();
  const a = first.receiveInto(800);
  t.is(a.byteLength, 800);
  // A second read while the first is leased (a watermark's GET, a concurrent invocation).
  const other = buffers.lease();
  t.false(sameMemory(other.receiveInto(800), a));
  // The same lease asked again (a retried GET) keeps its memory.
  t.true(sameMemory(first.receiveInto(500), a));
  first.release();
  other.release();
  const next = buffers.lease();
  const b = next.receiveInto(600);
  t.true(sameMemory(b, a));
  t.is(b.byteLength, 600);
  next.release();
  t.false(sameMemory(buffers.lease().receiveInto(1001), a));
});

test("a reused receive buffer never carries a previous original's bytes into a render", async (t) => {
  const s3 = await startEmbeddedS3(mkdtempSync(join(tmpdir(), "receive-buffer-")), "originals");
  const sdk = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  const client = createHandlerS3Client(s3.endpoint);
  try {
    const large = await progressiveJpeg(1200, 900, { chromaSubsampling: "4:4:4" });
    const small = await progressiveJpeg(300, 200);
    t.true(small.byteLength < large.byteLength);
    for (const [key, body] of [
      ["images/large.jpg", large],
      ["images/small.jpg", small],
    ] as const)
      await sdk.send(new PutObjectCommand({ Bucket: "originals", Key: key, Body: body, ContentType: "image/jpeg" }));
    const buffers = new ReceiveBuffer(1 << 20);
    const seen: Buffer[] = [];
    const miss = async (key: string, width: number) => {
      const plan = { ...basePlan(key, 80), width, height: 0, format: "jpeg" as const };
      const lease = buffers.lease();
      try {
        const got = await renderOriginal(
          s3ObjectStore(client),
          "originals",
          plan,
          (original, dcPrefix) => {
            seen.push(original);
            return renderVariant({ plan, original, settings, dcPrefix });
          },
          lease.receiveInto,
        );
        return got.rendered.body;
      } finally {
        lease.release();
      }
    };
    // 400 wide: not a 1/8 decode, so each original is read whole into the retained memory.
    const first = await miss("images/large.jpg", 400);
    const second = await miss("images/small.jpg", 100);
    t.true(sameMemory(seen[0]!, seen[1]!), "the second read reused the first one's memory");
    t.true(seen[1]!.equals(small));
    t.true(
      second.equals(
        (
          await renderVariant({
            plan: { ...basePlan("images/small.jpg", 80), width: 100, height: 0, format: "jpeg" },
            original: small,
            settings,
          })
        ).body,
      ),
    );
    t.true(
      first.equals(
        (
          await renderVariant({
            plan: { ...basePlan("images/large.jpg", 80), width: 400, height: 0, format: "jpeg" },
            original: large,
            settings,
          })
        ).body,
      ),
    );
  } finally {
    client.destroy();
    sdk.destroy();
    await s3.close();
  }
});

test("a read its stand-in stopped gives the memory back, and none of its bytes reach a render", async (t) => {
  const s3 = await startEmbeddedS3(mkdtempSync(join(tmpdir(), "receive-buffer-stopped-")), "originals");
  const sdk = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  const client = createHandlerS3Client(s3.endpoint);
  try {
    const big = randomBytes(4 << 20);
    const small = await progressiveJpeg(300, 200);
    for (const [key, body] of [
      ["images/big.jpg", big],
      ["images/small.jpg", small],
    ] as const)
      await sdk.send(new PutObjectCommand({ Bucket: "originals", Key: key, Body: body, ContentType: "image/jpeg" }));
    const answers: S3Answer[] = [];
    const get = client.get.bind(client);
    client.get = async (...args) => {
      const answer = await get(...args);
      answers.push(answer);
      return answer;
    };
    const buffers = new ReceiveBuffer(8 << 20);
    const given: Buffer[] = [];
    const stoodIn: RenderedVariant = {
      body: Buffer.from("from the stand-in"),
      contentType: "image/jpeg",
      format: "jpeg",
      width: 1,
      height: 1,
    };
    // Stands in for whatever object is read, as soon as its ETag is known.
    const standIn: StandIn = {
      standsInFor: (etag) => etag !== undefined,
      take: async (etag) => (etag === undefined ? null : async () => stoodIn),
    };
    const miss = async (key: string, withStandIn: boolean) => {
      const plan = { ...basePlan(key, 80), width: 100, height: 0, format: "jpeg" as const };
      const lease = buffers.lease();
      const receiveInto = (bytes: number) => {
        const memory = lease.receiveInto(bytes);
        given.push(memory);
        return memory;
      };
      try {
        const render = async (original: Buffer, dcPrefix: boolean) => renderVariant({ plan, original, settings, dcPrefix });
        return (await renderOriginal(s3ObjectStore(client), "originals", plan, render, receiveInto, withStandIn ? standIn : undefined))
          .rendered.body;
      } finally {
        lease.release();
      }
    };
    t.is(await miss("images/big.jpg", true), stoodIn.body, "the stopped original is not rendered");
    t.true(answers[0]!.partial, "its read was stopped");
    t.true(answers[0]!.body.byteLength < big.byteLength / 4, `${answers[0]!.body.byteLength} of ${big.byteLength} bytes read`);
    const second = await miss("images/small.jpg", false);
    t.is(given.length, 2);
    t.true(sameMemory(given[0]!, given[1]!), "the stopped read's memory went back to the buffer");
    const direct = await renderVariant({
      plan: { ...basePlan("images/small.jpg", 80), width: 100, height: 0, format: "jpeg" },
      original: small,
      settings,
    });
    t.true(second.equals(direct.body));
  } finally {
    client.destroy();
    sdk.destroy();
    await s3.close();
  }
});
