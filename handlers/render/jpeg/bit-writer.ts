/**
 * Entropy-coded data as JPEG writes it (T.81 F.1.2.3): bits most significant first, a 0x00
 * stuffed after every 0xFF byte, the last byte padded with 1-bits. Pure.
 */
/** Bits written most significant first, a 0x00 stuffed after every 0xFF byte, the last byte padded with 1-bits (T.81 F.1.2.3). */
export class BitWriter {
  private bytes: Uint8Array;
  private length = 0;
  private buffer = 0;
  private count = 0;

  /** `expected` bytes to start with (at most 1 MB: a file that needs more grows it). */
  constructor(expected = 64) {
    this.bytes = new Uint8Array(Math.min(expected, 1 << 20) + 16);
  }

  /** The `n` low bits of `value`, n at most 24 (with at most 7 bits pending, 31 bits fit in the buffer). */
  write(value: number, n: number): void {
    this.buffer = (this.buffer << n) | (value & ((1 << n) - 1));
    this.count += n;
    while (this.count >= 8) {
      this.count -= 8;
      const byte = (this.buffer >>> this.count) & 0xff;
      if (this.length + 2 > this.bytes.length) this.grow();
      this.bytes[this.length++] = byte;
      if (byte === 0xff) this.bytes[this.length++] = 0x00;
    }
  }

  finish(): Buffer {
    if (this.count > 0) this.write((1 << (8 - this.count)) - 1, 8 - this.count);
    return Buffer.from(this.bytes.buffer, 0, this.length);
  }

  private grow(): void {
    const grown = new Uint8Array(this.bytes.length * 2);
    grown.set(this.bytes);
    this.bytes = grown;
  }
}
