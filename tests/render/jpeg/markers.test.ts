/**
 * The JPEG marker reader (handlers/render/jpeg/markers.ts): what it reports for real files, and
 * the "unsure" (null) it must answer for anything it does not fully understand.
 */
import test from "ava";
import sharp from "sharp";
import { readJpegLayout } from "../../../handlers/render/jpeg/markers.js";
import { fixture } from "../../helpers/images.js";
import { arithmeticHeader, progressiveJpeg, withRestartInterval } from "../../helpers/jpeg.js";

test("a progressive file: SOF2, every scan with its components, band and successive approximation", async (t) => {
  const jpeg = await progressiveJpeg(67, 45, { chromaSubsampling: "4:2:0" });
  const layout = readJpegLayout(jpeg)!;
  t.truthy(layout);
  t.true(layout.progressive);
  t.false(layout.restarts);
  t.false(layout.arithmetic);
  t.deepEqual([layout.width, layout.height, layout.precision], [67, 45, 8]);
  t.deepEqual(
    layout.components.map((c) => [c.h, c.v]),
    [
      [2, 2],
      [1, 1],
      [1, 1],
    ],
  );
  // libjpeg's default progressive script for three YCbCr components.
  t.deepEqual(
    layout.scans.map((s) => `${s.components.join("")}:${s.ss}-${s.se},${s.ah}/${s.al}`),
    [
      "012:0-0,0/1",
      "0:1-5,0/2",
      "2:1-63,0/1",
      "1:1-63,0/1",
      "0:6-63,0/2",
      "0:1-63,2/1",
      "012:0-0,1/0",
      "2:1-63,1/0",
      "1:1-63,1/0",
      "0:1-63,1/0",
    ],
  );
  for (const scan of layout.scans) {
    t.true(scan.dataStart > scan.start && scan.dataEnd > scan.dataStart);
    t.is(jpeg[scan.dataEnd], 0xff, "the data ends at a marker");
    if (scan.ss > 0) t.truthy(scan.acTables[0], "every AC scan's table is defined before it");
  }
  t.is(layout.end, jpeg.lastIndexOf(Buffer.from([0xff, 0xd9])));
});

test("a baseline file is read as one scan of every component, not progressive", async (t) => {
  const layout = readJpegLayout(fixture("raindrops-480.jpg"))!;
  t.false(layout.progressive);
  t.is(layout.scans.length, 1);
  t.deepEqual(layout.scans[0]!.components, [0, 1, 2]);
  t.deepEqual([layout.scans[0]!.ss, layout.scans[0]!.se], [0, 63]);
});

test("stuffed 0xFF00 bytes and RSTn markers stay inside a scan's data; a DRI interval is reported", async (t) => {
  const plain = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#fff" } })
    .jpeg({ quality: 100 })
    .toBuffer();
  const restarts = withRestartInterval(plain);
  const layout = readJpegLayout(restarts)!;
  t.true(layout.restarts);
  t.false(readJpegLayout(plain)!.restarts);
  // A scan's data holding 0xFF00 and an RST0 marker, then EOI.
  const scanData = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56];
  const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];
  const sof = [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00];
  const handmade = Buffer.from([0xff, 0xd8, ...sof, ...sos, ...scanData, 0xff, 0xd9]);
  const scan = readJpegLayout(handmade)!.scans[0]!;
  t.is(scan.dataEnd - scan.dataStart, scanData.length);
});

test("arithmetic coding is reported: an SOF9 frame, or a DAC segment", (t) => {
  t.true(readJpegLayout(arithmeticHeader("sof"))!.arithmetic);
  t.true(readJpegLayout(arithmeticHeader("dac"))!.arithmetic);
  t.false(readJpegLayout(arithmeticHeader("none"))!.arithmetic);
});

test("unsure (null) for truncated files, a second frame, DNL heights, unknown markers and garbage", async (t) => {
  const jpeg = await progressiveJpeg(40, 30);
  t.truthy(readJpegLayout(jpeg));
  t.is(readJpegLayout(jpeg.subarray(0, jpeg.length - 2)), null, "no EOI");
  t.is(readJpegLayout(jpeg.subarray(0, Math.floor(jpeg.length / 2))), null, "cut in a scan");
  t.is(readJpegLayout(fixture("BlueSquare_truncated.jpg")), null);
  t.is(readJpegLayout(Buffer.from("<html>not a jpeg</html>")), null);
  t.is(readJpegLayout(Buffer.alloc(0)), null);
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc2]));
  const sofLength = jpeg.readUInt16BE(sof + 2);
  const sofSegment = jpeg.subarray(sof, sof + 2 + sofLength);
  const twoFrames = Buffer.concat([jpeg.subarray(0, sof), sofSegment, jpeg.subarray(sof)]);
  t.is(readJpegLayout(twoFrames), null, "a second frame");
  const dnl = Buffer.from(jpeg);
  dnl.writeUInt16BE(0, sof + 5); // height 0: given later by a DNL marker
  t.is(readJpegLayout(dnl), null);
  const unknown = Buffer.concat([jpeg.subarray(0, sof), Buffer.from([0xff, 0xf7, 0x00, 0x02]), jpeg.subarray(sof)]);
  t.is(readJpegLayout(unknown), null, "JPG7, a marker this reader does not know");
  const lossless = Buffer.from(jpeg);
  lossless[sof + 1] = 0xc3;
  t.is(readJpegLayout(lossless), null, "a lossless frame");
});
