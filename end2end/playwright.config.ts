import { defineConfig, devices } from '@playwright/test';

// Runs against a copy of the release binary alone in an empty folder (so every asset must be
// embedded in it), with a fresh database and mail root, in Debian's Chromium (no browser
// download). AIRDESK_BIN overrides the binary's path.
const port = Number(process.env.AIRDESK_E2E_PORT ?? 3300);
const bin = process.env.AIRDESK_BIN ?? '../target/release/airdesk';
const root = process.env.AIRDESK_E2E_ROOT ?? '/tmp/airdesk-e2e';
// The identity provider of the single sign-on specs: oidc-provider from npm, on loopback.
const idpPort = port + 1;
const idpClients = [
  {
    client_id: 'airdesk',
    client_secret: 'e2e-oidc-client-secret-000',
    redirect_uris: [`http://127.0.0.1:${port}/auth/oidc/callback`],
    post_logout_redirect_uris: [`http://127.0.0.1:${port}/login`],
  },
];

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: [
    {
      command: 'node ../scripts/oidc-provider.mjs',
      env: {
        OIDC_PORT: String(idpPort),
        OIDC_CLIENTS: JSON.stringify(idpClients),
        OIDC_ACCOUNTS_FILE: 'oidc-accounts.json',
      },
      url: `http://127.0.0.1:${idpPort}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command:
        `rm -rf ${root} && mkdir -p ${root} && cp ${bin} ${root}/airdesk && cp policy.toml ${root}/ && cd ${root} && ` +
        // A webhook to a port nobody listens on: its deliveries wait, with the error, in Deliveries.
        `printf e2e-webhook-signing-secret-000 > webhook.secret && printf e2e-oidc-client-secret-000 > oidc.secret && ` +
        `exec ./airdesk serve --demo --listen 127.0.0.1:${port} ` +
        `--database-url sqlite://e2e.db --mail-root mail --internal-domains example.test --policy policy.toml ` +
        `--webhook http://127.0.0.1:9/airdesk --webhook-secret-file webhook.secret ` +
        `--oidc-issuer http://127.0.0.1:${idpPort} --oidc-name 'Test IdP' --oidc-client-id airdesk ` +
        `--oidc-client-secret-file oidc.secret --oidc-scopes 'profile email groups' ` +
        `--oidc-role-map soc-readers=reader,soc-analysts=search_and_purge,soc-admins=admin`,
      env: { AIRDESK_DEMO_PASSWORD: 'e2e-demo-password', AIRDESK_LOG: process.env.AIRDESK_LOG ?? 'warn' },
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
  ],
});
