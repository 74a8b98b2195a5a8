import { open } from 'node:fs/promises';

/** Whether two files hold the same bytes (sizes first, then 1 MiB blocks). Throws when either cannot be read. */
export async function sameFileBytes(a: string, b: string): Promise<boolean> {
  const fa = await open(a, 'r');
  try {
    const fb = await open(b, 'r');
    try {
      const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
      if (sa.size !== sb.size) return false;
      const size = 1 << 20;
      const ba = Buffer.allocUnsafe(size);
      const bb = Buffer.allocUnsafe(size);
      for (;;) {
        const [ra, rb] = await Promise.all([fa.read(ba, 0, size, null), fb.read(bb, 0, size, null)]);
        if (ra.bytesRead !== rb.bytesRead) return false;
        if (ra.bytesRead === 0) return true;
        if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      }
    } finally {
      await fb.close();
    }
  } finally {
    await fa.close();
  }
}
