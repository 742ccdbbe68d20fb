// The identity provider of airdesk's single sign-on tests: the certified `oidc-provider`
// package, on loopback, with its own development login form (any password; the login names
// an account of OIDC_ACCOUNTS_FILE) and signing keys made at start. Not for production.
//
// Environment:
//   OIDC_PORT           port to listen on (127.0.0.1)
//   OIDC_ISSUER         the issuer URL (default http://127.0.0.1:$OIDC_PORT; a test's proxy
//                       in front may be the issuer instead)
//   OIDC_CLIENTS        JSON array of oidc-provider client metadata
//   OIDC_ACCOUNTS_FILE  JSON object: login -> claims ({"groups": [...], "email": ...});
//                       read at every sign-in, so a test can move a user between groups
//   OIDC_GROUPS_IN_ID_TOKEN=1  put the groups in the ID token (else only in the user info)
//   OIDC_ID_TOKEN_TTL   seconds an ID token lives (default 3600)
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const accountsFile = process.env.OIDC_ACCOUNTS_FILE;
const groupsInIdToken = process.env.OIDC_GROUPS_IN_ID_TOKEN === '1';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  conformIdTokenClaims: !groupsInIdToken,
  pkce: { required: () => true },
  ttl: { IdToken: Number(process.env.OIDC_ID_TOKEN_TTL || 3600) },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // First-party clients: no consent screen, the grant is made as the user signs in.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['sub', 'preferred_username', 'name', 'email', 'email_verified', 'groups']);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const claims = accounts()[id];
    if (!claims) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: claims.sub || id, preferred_username: id, ...claims };
      },
    };
  },
});
provider.proxy = true;

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
