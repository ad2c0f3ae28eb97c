import type { Emulator } from '../../emulator/src';
import { createLicense, DAY_MS, ok, refused, startTwoAppEmulator } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startTwoAppEmulator();
});
afterAll(() => emulator.stop());

test('create → get → extend → update-status → delete → get answers LICENSE_NOT_FOUND', async () => {
  const created = await createLicense(emulator, { duration_unit: 'days', duration_value: 30, tags: ['pro'], metadata: { order: 42 } });
  expect(created).toMatchObject({ app_id: emulator.appId, status: 'active', duration_unit: 'days', duration_value: 30, tags: ['pro'], metadata: { order: 42 } });
  expect(Date.parse(created.expires_at as string) - Date.parse(created.created_at)).toBe(30 * DAY_MS);

  const read = await ok(emulator, '/license/get', { license_key: created.license_key });
  expect(read.data).toEqual(created);

  const extended = await ok(emulator, '/license/extend', { license_key: created.license_key, extend_seconds: 86_400 });
  expect(Date.parse(extended.data.expires_at as string)).toBe(Date.parse(created.expires_at as string) + DAY_MS);

  const paused = await ok(emulator, '/license/update-status', { license_key: created.license_key, status: 'paused' });
  expect(paused.data.status).toBe('paused');
  const active = await ok(emulator, '/license/update-status', { license_key: created.license_key, status: 'active' });
  expect(active.data.status).toBe('active');

  const deleted = await ok(emulator, '/license/delete', { license_key: created.license_key });
  expect(deleted.data).toEqual({ license_key: created.license_key, deleted: true });

  const gone = await refused(emulator, '/license/get', { license_key: created.license_key });
  expect(gone.status).toBe(404);
  expect(gone.body).toEqual({ error: `license ${created.license_key} does not exist`, error_code: 'LICENSE_NOT_FOUND' });
});
