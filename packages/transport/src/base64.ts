/**
 * The one base64 text of a byte string (RFC 4648 §4, padded, unused bits zero), as the encoders
 * here write it. Peers' base64 is checked against it before decoding, so a decoder never sees
 * anything it would refuse, and a byte string has exactly one accepted spelling.
 */
export const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;
