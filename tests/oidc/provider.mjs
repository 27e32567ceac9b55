// A real OpenID provider for Roster's SSO tests: npm `oidc-provider` (a certified OpenID
// Connect implementation), started on loopback by tests/api/oidc.rs and stopped when its
// standard input closes (that is, when the test binary exits).
//
// It runs two issuers, each on its own port, and prints them as one JSON line on stdout:
//   * `issuer`: an honest provider that signs ID tokens with key set A and publishes A;
//   * `rogue_issuer`: the same provider, signing with A, but whose JWKS endpoint publishes key
//     set B under A's key ids — so every ID token it issues is "signed by another key" than the
//     ones its JWKS vouches for, and a correct relying party must refuse it;
//   * `rotating_issuer`: signs with A, but its JWKS endpoint answers the first request with only
//     an older key (another kid), as if A had been rotated in after the relying party cached
//     the keys; later requests get A. A relying party that fetches the keys again on an unknown
//     kid signs people in; one that does not, refuses them.
//
// Client `roster` (secret `roster-test-secret`, confidential, code flow) may redirect to any
// `http://127.0.0.1:3000/auth/oidc/<id>/callback`, because Roster's provider ids are made per
// test; everything else is the library's own behaviour. Sign in through the development login
// form with any login name; the account's claims come from that name:
//   `alice`                   → sub `alice`, email `alice@example.com`, preferred_username `alice`
//   `alice;email=x@y;name=N`  → sub `alice;email=x@y;name=N` (the login as typed: oidc-provider's
//                               subject is the account id) with those claims overridden
//                               (`email=` empty: no email)
// `POST /__test/claims {"account": "alice", "claims": {...}}` changes an account's claims from then
// on (the same subject with, say, a new email), as an administrator would at a real provider.
// With the default `conformIdTokenClaims`, scope claims (email, profile) are not put in the ID
// token of the code flow: the relying party has to ask the userinfo endpoint for them.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const ROSTER_BASE = process.env.ROSTER_PUBLIC_URL || 'http://127.0.0.1:3000';

// Three RSA keys made once for these tests (test-keys.json: private JWKs of no use anywhere
// else). Made at each start (generateKeyPairSync, then `export({ format: 'jwk' })`), the export
// never returned in about one start in twenty on Node 20 here, and the start timed out after 60 s
// (the e2e SSO spec's "did not start within 60 s", its stderr at the library's first warning).
const TEST_KEYS = JSON.parse(readFileSync(new URL('./test-keys.json', import.meta.url), 'utf8'));

function signingKey(name, kid) {
  return { ...TEST_KEYS[name], kid, alg: 'RS256', use: 'sig' };
}

function publicPart({ kty, n, e, kid, alg, use }) {
  return { kty, n, e, kid, alg, use };
}

const keyA = signingKey('a', 'key-a');
const keyB = signingKey('b', 'key-a'); // same kid, different key: the rogue JWKS
const keyOld = signingKey('old', 'key-old'); // what the rotating issuer published before A

const changedClaims = new Map();

function accountClaims(login) {
  const [name, ...overrides] = login.split(';');
  const claims = {
    sub: login,
    email: `${name}@example.com`,
    email_verified: true,
    preferred_username: name,
    name: `Test ${name}`,
  };
  for (const pair of overrides) {
    const [k, v = ''] = pair.split('=');
    if (v === '') delete claims[k];
    else claims[k] = v;
  }
  return { ...claims, ...(changedClaims.get(login) || {}), sub: login };
}

function configuration() {
  return {
    clients: [
      {
        client_id: 'roster',
        client_secret: 'roster-test-secret',
        redirect_uris: [`${ROSTER_BASE}/auth/oidc/any/callback`],
        post_logout_redirect_uris: [`${ROSTER_BASE}/login`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [keyA] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    cookies: { keys: ['roster-test-cookie-key'] },
    async findAccount(ctx, id) {
      const claims = accountClaims(id);
      return {
        accountId: id,
        async claims() {
          return claims;
        },
      };
    },
  };
}

function startIssuer({ rogue = false, rotating = false }) {
  let jwksRequests = 0;
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const issuer = `http://127.0.0.1:${server.address().port}`;
      const provider = new Provider(issuer, configuration());
      // Roster's provider ids are made per test, so any of its callback paths is a valid redirect.
      const callback = new RegExp(`^${ROSTER_BASE.replace(/[.]/g, '\\.')}/auth/oidc/[A-Za-z0-9-]+/callback$`);
      provider.Client.prototype.redirectUriAllowed = (uri) => callback.test(uri);
      provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
      const handle = provider.callback();
      server.on('request', (req, res) => {
        if (req.method === 'POST' && req.url === '/__test/claims') {
          let body = '';
          req.on('data', (chunk) => { body += chunk; });
          req.on('end', () => {
            const { account, claims } = JSON.parse(body);
            changedClaims.set(account, claims);
            res.statusCode = 204;
            res.end();
          });
          return;
        }
        if (rotating && req.url === '/jwks' && jwksRequests++ === 0) {
          res.setHeader('content-type', 'application/jwk-set+json');
          res.end(JSON.stringify({ keys: [publicPart(keyOld)] }));
          return;
        }
        if (rogue && req.url === '/jwks') {
          res.setHeader('content-type', 'application/jwk-set+json');
          res.end(JSON.stringify({ keys: [publicPart(keyB)] }));
          return;
        }
        handle(req, res);
      });
      resolve({ issuer, server });
    });
  });
}

const good = await startIssuer({});
const rogue = await startIssuer({ rogue: true });
const rotating = await startIssuer({ rotating: true });
process.stdout.write(`${JSON.stringify({
  issuer: good.issuer,
  rogue_issuer: rogue.issuer,
  rotating_issuer: rotating.issuer,
})}\n`);
// The test binary reads only that line and closes the pipe: everything else goes to stderr.
process.stdout.on('error', () => {});
console.log = console.error;
console.info = console.error;

// Stop when the test binary that started us goes away.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
