/**
 * The body checks on their own: a body's length against S3's Content-Length, its MD5 against a
 * single-part unencrypted ETag, and which ETags are no MD5 at all (multipart, SSE-KMS, SSE-C).
 */
import test from "ava";
import { createHash } from "node:crypto";
import { bodyMismatch, etagMd5 } from "../../handlers/s3/body-check.js";

const body = Buffer.from("the bytes of an original");
const md5 = createHash("md5").update(body).digest("hex");

test("the object as S3 described it passes", (t) => {
  t.is(bodyMismatch({ "content-length": String(body.length), etag: `"${md5}"` }, body), undefined);
  t.is(bodyMismatch({ "content-length": String(body.length), etag: `"${md5.toUpperCase()}"` }, body), undefined);
});

test("a body shorter or longer than S3's Content-Length is refused, whatever the ETag", (t) => {
  t.is(bodyMismatch({ "content-length": String(body.length + 1) }, body), `body of ${body.length} bytes, S3 announced ${body.length + 1}`);
  t.regex(bodyMismatch({ "content-length": "3", etag: `"${md5}"` }, body) ?? "", /S3 announced 3/);
});

test("a body of the right length whose bytes are not the object's is refused by its MD5 ETag", (t) => {
  const flipped = Buffer.from(body);
  flipped[5]! ^= 1;
  t.is(bodyMismatch({ "content-length": String(body.length), etag: `"${md5}"` }, flipped), "body does not match its ETag (MD5)");
});

test("over TLS only the length is checked: TLS authenticated the bytes, hashing them again would cost CPU for nothing", (t) => {
  const flipped = Buffer.from(body);
  flipped[5]! ^= 1;
  t.is(bodyMismatch({ "content-length": String(body.length), etag: `"${md5}"` }, flipped, true), undefined);
  t.regex(bodyMismatch({ "content-length": "3", etag: `"${md5}"` }, body, true) ?? "", /S3 announced 3/);
});

test("ETags that are no MD5 are not taken for one: multipart, SSE-KMS (and DSSE), SSE-C, odd shapes", (t) => {
  t.is(etagMd5({ etag: `"${md5}"` }), md5);
  t.is(etagMd5({ etag: `"${md5}"`, "x-amz-server-side-encryption": "AES256" }), md5, "SSE-S3 keeps the MD5");
  t.is(etagMd5({ etag: `"${md5}-2"` }), undefined);
  t.is(etagMd5({ etag: `"${md5}"`, "x-amz-server-side-encryption": "aws:kms" }), undefined);
  t.is(etagMd5({ etag: `"${md5}"`, "x-amz-server-side-encryption": "aws:kms:dsse" }), undefined);
  t.is(etagMd5({ etag: `"${md5}"`, "x-amz-server-side-encryption-customer-algorithm": "AES256" }), undefined);
  t.is(etagMd5({ etag: `W/"${md5}"` }), undefined);
  t.is(etagMd5({}), undefined);
  t.is(bodyMismatch({ etag: `"${md5}"`, "x-amz-server-side-encryption": "aws:kms" }, Buffer.from("other")), undefined);
});
