/**
 * A QR code as an SVG image drawn from uqr's encoding: one path of dark modules, no inline HTML or
 * styles (the page's content security policy allows neither), on its own white square with the
 * quiet zone included, so that it scans on any background; named for assistive technology.
 */
import { useMemo } from "react";
import { encode } from "uqr";

/** The light margin around the code, in modules, that scanners need (ISO/IEC 18004: 4). */
const QUIET_ZONE = 4;

export function QrCode({ value, label }: { value: string; label: string }) {
  const { size, path } = useMemo(() => {
    const { size, data } = encode(value, { ecc: "M", border: QUIET_ZONE });
    const path = data.flatMap((row, y) => row.map((dark, x) => (dark ? `M${x} ${y}h1v1h-1z` : ""))).join("");
    return { size, path };
  }, [value]);
  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} className="qr" shapeRendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
