/** The other images the bench's watermark and frame cases read from the bucket. */
import sharp from "sharp";

export interface SecondImageOptions {
  /** Side of the half-transparent red watermark, px. */
  markSide: number;
  /** The nine-patch's stretchy centre: opaque grey, or transparent over the picture (its detail then stays in the output). */
  centre: "opaque" | "transparent";
}

/** `mark.png` (a watermark) and `frame.png` (a 5x5 nine-patch: black markers on the border). */
export async function secondImages({ markSide, centre }: SecondImageOptions): Promise<Record<string, Buffer>> {
  const mark = await sharp({ create: { width: markSide, height: markSide, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
    .png()
    .toBuffer();
  const np = Buffer.alloc(5 * 5 * 4);
  for (let i = 0; i < 25; i++) np.writeUInt32BE(centre === "opaque" ? 0x808080ff : 0x80808000, i * 4);
  for (const [x, y] of [
    [2, 0],
    [0, 2],
    [2, 4],
    [4, 2],
  ])
    np.writeUInt32BE(0x000000ff, (y * 5 + x) * 4);
  const frame = await sharp(np, { raw: { width: 5, height: 5, channels: 4 } })
    .png()
    .toBuffer();
  return { "mark.png": mark, "frame.png": frame };
}
