/**
 * One receive buffer kept across warm invocations for the original's GET. A new buffer of an
 * original's size is fresh memory from the kernel, and its first write faults every page in: for
 * a 16 MB original a few thousand minor faults, about 8 ms of CPU per miss measured here, where
 * copying into memory already mapped costs about 1 ms.
 *
 * Safety: one lease at a time owns the buffer (a second read while it is leased, a watermark's
 * GET or a concurrent invocation of the local edge, gets new memory), and the client hands back
 * only bytes it wrote in this read (the announced length, read to the end, or the prefix read so
 * far), so nothing of a previous original can reach a render. The lease ends once the variant is
 * stored.
 */

export interface ReceiveLease {
  /** A buffer of exactly `bytes` for one answer's body (GetOptions.receiveInto). */
  receiveInto(bytes: number): Buffer;
  release(): void;
}

export class ReceiveBuffer {
  private retained: Buffer | null = null;
  private owner: object | null = null;

  /** Bodies over `maxRetained` bytes get their own memory, so a rare huge original does not stay in memory. */
  constructor(private readonly maxRetained: number) {}

  lease(): ReceiveLease {
    const token = {};
    return {
      receiveInto: (bytes) => {
        if (bytes > this.maxRetained || (this.owner !== null && this.owner !== token)) return Buffer.allocUnsafe(bytes);
        this.owner = token;
        if (!this.retained || this.retained.byteLength < bytes) this.retained = Buffer.allocUnsafe(bytes);
        return this.retained.subarray(0, bytes);
      },
      release: () => {
        if (this.owner === token) this.owner = null;
      },
    };
  }
}
