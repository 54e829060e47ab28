/**
 * Shared helpers for the pipeline tests: fixtures, plans, generated test images and pixel probes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { basePlan, type TransformPlan } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS, type Settings } from "../../handlers/core/settings.js";

export const settings: Settings = DEFAULT_SETTINGS;

export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, "..", "fixtures", "images", name));
}

export function plan(over: Partial<TransformPlan> = {}): TransformPlan {
  return { ...basePlan("test/image", 80), ...over };
}

export type RGB = [number, number, number];
export const RED: RGB = [255, 0, 0];
export const GREEN: RGB = [0, 255, 0];
export const BLUE: RGB = [0, 0, 255];
export const WHITE: RGB = [255, 255, 255];

/**
 * An image whose four quadrants differ (top-left red, top-right green, bottom-left blue,
 * bottom-right white), so any flip, rotation or misplaced crop shows at the corners.
 */
export function quadrantPixels(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const right = x >= width / 2;
      const bottom = y >= height / 2;
      const colour = bottom ? (right ? WHITE : BLUE) : right ? GREEN : RED;
      data.set(colour, (y * width + x) * 3);
    }
  }
  return data;
}

export async function quadrantImage(width: number, height: number, format: "png" | "jpeg" = "png"): Promise<Buffer> {
  const img = sharp(quadrantPixels(width, height), { raw: { width, height, channels: 3 } });
  return format === "png" ? img.png().toBuffer() : img.jpeg({ quality: 95 }).toBuffer();
}

/** The RGBA value of one pixel of an encoded image. */
export async function pixelAt(encoded: Buffer, x: number, y: number): Promise<[number, number, number, number]> {
  const { data, info } = await sharp(encoded).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
}
