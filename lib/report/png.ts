/**
 * A minimal PNG reader: enough to check that a screenshot is a valid PNG and to look at its
 * pixels (is anything drawn?). Checks signature and chunk CRCs; decodes 8-bit, non-interlaced
 * grey / RGB / grey+alpha / RGBA, which is what Chromium writes.
 */
import { inflateSync } from 'zlib';
import { FormatError } from '../errors';
import { crc32 } from '../io/crc32';

export interface PngImage {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** RGBA, row-major; absent for layouts this reader does not decode. */
  rgba?: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);


export function readPng(data: Buffer): PngImage {
  if (data.length < 8 || !data.subarray(0, 8).equals(SIGNATURE)) throw new FormatError('E_FORMAT', 'not a PNG file (bad signature)');
  let pos = 8;
  let header: Omit<PngImage, 'rgba'> | undefined;
  let interlace = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos + 12 <= data.length) {
    const len = data.readUInt32BE(pos);
    const type = data.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > data.length) throw new FormatError('E_FORMAT', `PNG chunk ${type} runs past the end of the file`);
    const body = data.subarray(pos + 8, pos + 8 + len);
    if (crc32(data.subarray(pos + 4, pos + 8 + len)) !== data.readUInt32BE(pos + 8 + len)) throw new FormatError('E_FORMAT', `PNG chunk ${type} has a bad CRC`);
    if (type === 'IHDR') {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), bitDepth: body[8], colorType: body[9] };
      interlace = body[12];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    pos += 12 + len;
  }
  if (!header) throw new FormatError('E_FORMAT', 'PNG has no IHDR chunk');
  if (!ended) throw new FormatError('E_FORMAT', 'PNG is truncated (no IEND chunk)');
  if (header.width === 0 || header.height === 0) throw new FormatError('E_FORMAT', 'PNG has zero width or height');
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[header.colorType];
  if (header.bitDepth !== 8 || interlace !== 0 || !channels) return header;
  return { ...header, rgba: decode(inflateSync(Buffer.concat(idat)), header.width, header.height, channels) };
}

function decode(raw: Buffer, width: number, height: number, channels: number): Uint8Array {
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new FormatError('E_FORMAT', 'PNG image data is shorter than its size says');
  const cur = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base];
    for (let i = 0; i < stride; i++) {
      const x = raw[base + 1 + i];
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new FormatError('E_FORMAT', `PNG row ${y} has unknown filter ${filter}`);
      }
      cur[i] = v & 0xff;
    }
    for (let px = 0; px < width; px++) {
      const o = (y * width + px) * 4;
      const s = px * channels;
      const grey = channels <= 2;
      out[o] = cur[s];
      out[o + 1] = grey ? cur[s] : cur[s + 1];
      out[o + 2] = grey ? cur[s] : cur[s + 2];
      out[o + 3] = channels === 2 ? cur[s + 1] : channels === 4 ? cur[s + 3] : 255;
    }
    prev = Uint8Array.from(cur);
  }
  return out;
}

/**
 * Share of pixels in a box (default: the whole image) that are not near-white: a blank or
 * failed page scores about 0, a drawn forest clearly more. Undefined when pixels were not decoded.
 */
export function inkFraction(img: PngImage, box?: { x: number; y: number; width: number; height: number }): number | undefined {
  if (!img.rgba) return undefined;
  const x0 = Math.max(0, box?.x ?? 0);
  const y0 = Math.max(0, box?.y ?? 0);
  const x1 = Math.min(img.width, x0 + (box?.width ?? img.width));
  const y1 = Math.min(img.height, y0 + (box?.height ?? img.height));
  let ink = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * img.width + x) * 4;
      if (img.rgba[o] < 235 || img.rgba[o + 1] < 235 || img.rgba[o + 2] < 235) ink++;
    }
  }
  const n = (x1 - x0) * (y1 - y0);
  return n > 0 ? ink / n : 0;
}
