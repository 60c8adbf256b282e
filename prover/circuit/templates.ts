/**
 * The circom templates every generated circuit carries (inlined, so a generated source is one
 * self-contained file and its hash covers everything the compiler sees).
 *
 * Soundness argument, per template (p is the BN254 scalar field, p > 2^253):
 *  - Bits(n), n <= 33: every out[i] is constrained boolean and sum out[i]*2^i === in. Since
 *    2^n < p, an `in` that is (as a field element) below 2^n has exactly one such decomposition,
 *    and an `in` at or above 2^n has none. So Bits(8) is a range check to 0..255.
 *  - RequantRelu(s) / RequantNone(s): the input is acc with |acc| < 2^32 (format.ts bound, which
 *    holds because every layer input is range-checked to 0..255 and weights/biases are
 *    constants of the valid model). t = acc + 2^32 is then an integer in [0, 2^33), so Bits(33)
 *    fixes its bits uniquely: bit 32 is the sign (acc >= 0 iff bit 32 = 1), bits 0..s-1 are the
 *    remainder acc mod 2^s (range-checked by being bits), bits s..32 are q + 2^(32-s) with
 *    q = floor(acc / 2^s). Saturation is decided from those bits with IsZero gadgets; nothing
 *    is left for the prover to choose, so no other rounding or clamp value satisfies them.
 *  - Max2: a, b already in 0..255 (range-checked inputs or requantized outputs); a - b + 256 is
 *    in 1..511 and Bits(9) gives its bit 8 = (a >= b).
 */
export const CIRCUIT_LIBRARY = String.raw`
// n boolean bits of in, least significant first: in === sum out[i] * 2^i (range check to n bits)
template Bits(n) {
    signal input in;
    signal output out[n];
    var lc = 0;
    var e = 1;
    for (var i = 0; i < n; i++) {
        out[i] <-- (in >> i) & 1;
        out[i] * (out[i] - 1) === 0;
        lc += out[i] * e;
        e = e + e;
    }
    lc === in;
}

// out = 1 if in == 0 else 0
template IsZero() {
    signal input in;
    signal output out;
    signal inv;
    inv <-- in != 0 ? 1 / in : 0;
    out <== -in * inv + 1;
    in * out === 0;
}

// out = clamp(floor(in / 2^s), 0, 255) for an integer |in| < 2^32
template RequantRelu(s) {
    signal input in;
    signal output out;
    component t = Bits(33);
    t.in <== in + 4294967296;
    // q's bits s .. s+7 (those below the sign bit); q >= 0 iff t.out[32] == 1
    var low = 0;
    for (var k = 0; k < 8 && s + k < 32; k++) low += t.out[s + k] * (1 << k);
    if (s + 8 < 32) {
        // q > 255 iff one of bits s+8 .. 31 is set (given q >= 0)
        var hi = 0;
        for (var i = s + 8; i < 32; i++) hi += t.out[i];
        component fits = IsZero();
        fits.in <== hi;
        signal m;
        m <== fits.out * (low - 255);
        out <== t.out[32] * (m + 255);
    } else {
        // q <= 2^(32-s) - 1 <= 255: no upper saturation possible
        out <== t.out[32] * low;
    }
}

// out = clamp(floor(in / 2^s), -128, 127) + 128 for an integer |in| < 2^32
template RequantNone(s) {
    signal input in;
    signal output out;
    component t = Bits(33);
    t.in <== in + 4294967296;
    if (s + 7 < 32) {
        var low = 0;
        for (var k = 0; k < 7; k++) low += t.out[s + k] * (1 << k);
        // u = bits s+7 .. 31: q in -128..127 iff they are all 0 (q >= 0) or all 1 (q < 0)
        var u = 0;
        for (var i = s + 7; i < 32; i++) u += t.out[i];
        component none = IsZero();
        none.in <== u;
        component all = IsZero();
        all.in <== u - (25 - s);
        signal inRange;
        inRange <== all.out + t.out[32] * (none.out - all.out);
        // in range: low + 128*sign (= q + 128); else 255 (q > 127) or 0 (q < -128)
        out <== inRange * (low - 127 * t.out[32]) + 255 * t.out[32];
    } else {
        // s >= 25: -128 <= q < 128 always; q + 128 = bits s..32 read as a number - 2^(32-s) + 128
        var h = 0;
        for (var i = s; i < 33; i++) h += t.out[i] * (1 << (i - s));
        out <== h - (1 << (32 - s)) + 128;
    }
}

// max of two values known to be in 0..255
template Max2() {
    signal input a;
    signal input b;
    signal output out;
    component d = Bits(9);
    d.in <== a - b + 256;
    out <== b + d.out[8] * (a - b);
}
`;
