/*
 * The rate-limit bucket of an API request (njs, libnginx-mod-http-js). nginx.conf.in reads
 * fast() as $rl_fast in `location /`, whose limit_req zones use it; for an ES256/RS256
 * token fast() says "?" and the request goes through route(), the content handler of
 * `location @api_async`, which sets $rl_key and continues in `location @api`.
 *
 *   "u:<sub>"  a token whose signature nginx checked, with a UUID sub: one bucket per user,
 *              however many sessions (tokens) the user holds
 *   "t:<sig>"  a checked token without a user (service_role): one bucket per token
 *   ""         everything else: no Authorization header, one that breaks the rule below, or a
 *              token nginx cannot verify. These count per client address (zone vs_anon), so
 *              a forged token neither escapes limiting nor spends its sub's budget.
 *
 * The header rule is the worker's (src/auth.c, auth_bearer_parse): the scheme "Bearer" in
 * any case, exactly one space, a token68, nothing else. The signature is checked with the
 * worker's keys (SUPABASE_JWT_SECRET, SUPABASE_JWKS, and the set the key fetcher got from
 * SUPABASE_URL, which it writes to JWKS_FETCHED_FILE: ES256 and RS256 keys, chosen by the
 * token's alg and kid as src/jwks.c does), because an unchecked sub would let anyone who
 * knows a user's id throttle that user. The check decides only the bucket: the worker
 * checks everything again (claims, expiry, role) and decides access.
 *
 * njs 0.7 (Debian 12): no destructuring, no JWK import, no state kept between requests.
 */
import fs from 'fs';
import cr from 'crypto';

const BEARER = /^bearer ([A-Za-z0-9._~+\/-]+=*)$/i;
const JWT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function b64(s) {
    return Buffer.from(s, 'base64url');
}

function segment(s) {
    return JSON.parse(b64(s).toString());
}

/* Compares in time independent of where the strings differ. */
function same(a, b) {
    let d = a.length ^ b.length;
    for (let i = 0; i < a.length && i < b.length; i++) {
        d |= a.charCodeAt(i) ^ b.charCodeAt(i);
    }
    return d === 0;
}

function hs256(data, sig) {
    const secret = process.env.SUPABASE_JWT_SECRET || '';
    if (!secret) {
        return false;
    }
    return same(cr.createHmac('sha256', secret).update(data).digest('base64url'), sig);
}

/* SUPABASE_JWKS is JSON text or the path of a file holding it, as for the worker. */
function staticKeys() {
    let src = (process.env.SUPABASE_JWKS || '').trim();
    if (!src) {
        return [];
    }
    if (src[0] !== '{') {
        src = fs.readFileSync(src).toString();
    }
    const keys = JSON.parse(src).keys;
    return Array.isArray(keys) ? keys : [];
}

/* The fetched set (src/jwks_fetch.c writes it whole, by rename); none yet, or unreadable:
 * no fetched key, so such tokens count per address until it is there. */
function fetchedKeys() {
    const path = process.env.JWKS_FETCHED_FILE || '';
    if (!path) {
        return [];
    }
    try {
        const keys = JSON.parse(fs.readFileSync(path).toString()).keys;
        return Array.isArray(keys) ? keys : [];
    } catch (e) {
        return [];
    }
}

/* Static keys first: they win on a kid both have, as in the worker (src/auth.c). */
function jwks() {
    return staticKeys().concat(fetchedKeys());
}

/* The keys src/jwks.c keeps: for signatures, allowed to verify, of our curve and alg. */
function usable(k, kty) {
    if (!k || k.kty !== kty || (k.use !== undefined && k.use !== 'sig')) {
        return false;
    }
    if (k.key_ops !== undefined && !(Array.isArray(k.key_ops) && k.key_ops.indexOf('verify') >= 0)) {
        return false;
    }
    if (kty === 'EC') {
        return k.crv === 'P-256' && (k.alg === undefined || k.alg === 'ES256');
    }
    return k.alg === undefined || k.alg === 'RS256';
}

/* With a kid, the key of that kid; without, the only key of the type (jwks_find). */
function pick(kty, kid) {
    const ks = jwks().filter(k => usable(k, kty));
    if (kid !== undefined) {
        return ks.filter(k => k.kid === kid)[0];
    }
    return ks.length === 1 ? ks[0] : undefined;
}

function der(tag, body) {
    const n = body.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag].concat(len)), body]);
}

function derUint(b) {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) {
        i++;
    }
    b = b.slice(i);
    return der(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

const EC_P256_SPKI = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const RSA_ALG_ID = Buffer.from('300d06092a864886f70d0101010500', 'hex');

/* SubjectPublicKeyInfo of a JWK (this njs imports no JWK). */
function spki(k) {
    if (k.kty === 'EC') {
        const x = b64(k.x), y = b64(k.y);
        if (x.length !== 32 || y.length !== 32) {
            throw new Error('EC key is not P-256');
        }
        return Buffer.concat([EC_P256_SPKI, Buffer.from([4]), x, y]);
    }
    const rsa = der(0x30, Buffer.concat([derUint(b64(k.n)), derUint(b64(k.e))]));
    return der(0x30, Buffer.concat([RSA_ALG_ID, der(0x03, Buffer.concat([Buffer.from([0]), rsa]))]));
}

async function asym(alg, data, sig, kid) {
    const ec = alg === 'ES256';
    const k = pick(ec ? 'EC' : 'RSA', kid);
    if (k === undefined) {
        return false;
    }
    const imp = ec ? {name: 'ECDSA', namedCurve: 'P-256'} : {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'};
    const use = ec ? {name: 'ECDSA', hash: 'SHA-256'} : {name: 'RSASSA-PKCS1-v1_5'};
    const key = await crypto.subtle.importKey('spki', spki(k), imp, false, ['verify']);
    return crypto.subtle.verify(use, key, b64(sig), data);
}

/* The bucket of a token whose signature checked out. */
function subject(t) {
    const sub = segment(t[2]).sub;
    if (typeof sub === 'string' && UUID.test(sub)) {
        return 'u:' + sub.toLowerCase();
    }
    return 't:' + t[3].slice(0, 43);
}

/* [header fields, JWT parts] of the request's bearer token, or null. */
function token(r) {
    const h = BEARER.exec(r.headersIn.Authorization || '');
    const t = h && JWT.exec(h[1]);
    return t ? [segment(t[1]), t] : null;
}

async function bucket(r) {
    const tk = token(r);
    if (!tk) {
        return '';
    }
    const hdr = tk[0], t = tk[1];
    const data = t[1] + '.' + t[2];
    let ok = false;
    if (hdr.alg === 'HS256') {
        ok = hs256(data, t[3]);
    } else if (hdr.alg === 'ES256' || hdr.alg === 'RS256') {
        ok = await asym(hdr.alg, data, t[3], hdr.kid);
    }
    return ok === true ? subject(t) : '';
}

/*
 * js_set $rl_fast: the bucket where it can be found without waiting, which is every case but
 * one: "?" for an ES256/RS256 token, whose signature only WebCrypto checks, and WebCrypto
 * answers with a promise that a js_set handler cannot wait for. nginx.conf.in sends those
 * requests through route() and @api; every other request goes straight to the workers, one
 * njs call and no internal redirect (the redirect and the async handler cost about as much
 * as the rest of nginx's work on a request).
 */
function fast(r) {
    try {
        const tk = token(r);
        if (!tk) {
            return '';
        }
        const alg = tk[0].alg, t = tk[1];
        if (alg === 'ES256' || alg === 'RS256') {
            return '?';
        }
        return alg === 'HS256' && hs256(t[1] + '.' + t[2], t[3]) ? subject(t) : '';
    } catch (e) {
        return ''; /* anything unreadable is anonymous; the worker answers 401 */
    }
}

async function route(r) {
    let key = '';
    try {
        key = await bucket(r);
    } catch (e) {
        key = ''; /* anything unreadable is anonymous; the worker answers 401 */
    }
    r.variables.rl_key = key;
    r.internalRedirect('@api');
}

/*
 * The 503 of a pool that is full (nginx.conf.in: the upstream's max_conns, or the FastCGI
 * socket's queue; error_page 502), answered after $vs_shed_ms (QUEUE_WAIT_MS) instead of at
 * once: a refusal that costs nothing invites a client in a loop to ask again at once, and a
 * flood of instant 503s would take the CPU the workers need to drain the queue. A waiting
 * connection costs a connection slot and no worker.
 */
function shed(r) {
    const ms = parseInt(r.variables.vs_shed_ms, 10) || 0;
    const body = '{"error":"unavailable","message":"Service temporarily unavailable"}\n';
    if (ms <= 0) {
        r.return(503, body);
        return;
    }
    setTimeout(function () { r.return(503, body); }, ms);
}

export default {fast, route, shed};
