import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { APIRequestContext, expect } from '@playwright/test';

// The server under test runs from this folder (playwright.config.ts); its binary makes tokens.
const root = process.env.AIRDESK_E2E_ROOT ?? '/tmp/airdesk-e2e';
const tokens = new Map<string, string>();

/** A bearer token for a demo user, made once with the binary's own command line. */
export function token(user: string): string {
  let found = tokens.get(user);
  if (!found) {
    found = execFileSync(`${root}/airdesk`, ['--database-url', `sqlite://${root}/e2e.db`, '--log', 'error', 'token', 'create', user, '--scope', 'admin'], {
      encoding: 'utf8',
    }).trim();
    tokens.set(user, found);
  }
  return found;
}

let counter = 0;

/** Delivers a message into a demo mailbox's Maildir Inbox, as the mail server would: execution
 * acts only on copies the index has seen, never on a Message-ID alone. */
function deliver(mailbox: string, messageId: string, subject: string, url: string, unique: string) {
  const message =
    `Message-ID: ${messageId}\r\nFrom: billing@evil.test\r\nTo: ${mailbox}\r\n` +
    `Subject: ${subject}\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nPay at ${url}\r\n`;
  // Written in tmp/ and renamed, as Maildir delivery does, so no scan reads half a file.
  const name = `1764150000.E2E${unique}.test`;
  writeFileSync(`${root}/mail/${mailbox}/tmp/${name}`, message);
  renameSync(`${root}/mail/${mailbox}/tmp/${name}`, `${root}/mail/${mailbox}/cur/${name}:2,`);
}

/** Ingests an investigation of its own (a fresh cluster, so no test meets another's duplicate)
 * over the REST API; returns its id, title and pending action ids (cluster first). */
export async function ingest(
  request: APIRequestContext,
  title: string,
  options: { severity?: string; subject?: string; urlPath?: string } = {},
) {
  counter += 1;
  const unique = `${Date.now()}-${counter}`;
  const fullTitle = `${title} ${unique}`;
  const subject = options.subject ?? 'Invoice overdue';
  const url = `http://e2e-${unique}.evil.test/${options.urlPath ?? ''}`;
  deliver('alice@example.test', `<e2e-${unique}@evil.test>`, subject, url, unique);
  // Ingested by one person, decided by another: whoever ingests an action over the API may not
  // approve it (separation of duties).
  const response = await request.post('/api/v1/investigations', {
    headers: { Authorization: `Bearer ${token('admin')}` },
    data: {
      title: fullTitle,
      investigation_type: 'user_reported',
      alert: { title: `E2E alert ${unique}`, severity: options.severity ?? 'high' },
      clusters: [{
        cluster_by: 'url',
        cluster_value: url,
        verdict: 'malicious',
        messages: [{
          mailbox: 'alice@example.test',
          internet_message_id: `<e2e-${unique}@evil.test>`,
          sender: 'billing@evil.test',
          subject,
          received_at: '2026-11-20T09:00:00Z',
        }],
      }],
      forwarding: [],
    },
  });
  expect(response.status()).toBe(201);
  const body = await response.json();
  return {
    id: body.id as string,
    title: fullTitle,
    incident: `E2E alert ${unique}`,
    clusterEntity: `URL: ${url}`,
    cluster: `Soft delete email cluster: URL: ${url}`,
    actions: (body.actions as { id: string }[]).map((a) => a.id),
  };
}

/** Approves an action over the API and waits for it to finish executing. */
export async function approveAndSettle(request: APIRequestContext, id: string) {
  const response = await request.post(`/api/v1/actions/${id}/approve`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  expect(response.status()).toBe(200);
  await expect.poll(async () => (await action(request, id)).status, { timeout: 15_000 }).toBe('completed');
}

/** An action as the API sees it. */
export async function action(request: APIRequestContext, id: string) {
  const response = await request.get(`/api/v1/actions/${id}`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  expect(response.status()).toBe(200);
  return response.json();
}
