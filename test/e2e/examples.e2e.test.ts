/**
 * Every example workflow in examples/*.json, in a real n8n with the package installed as a community
 * package: each is imported as a user imports it, every node type and version must be one this n8n has,
 * every Keycrate parameter one the node declares, and each example that needs no Stripe runs with
 * `n8n execute` against the emulator (Send Email goes to a local SMTP sink).
 */
import { EmulatorUnderTest } from './support/emulator';
import { bundledNodeTypes, exampleFiles, readExample, runnableCopy, unknownNodeTypes, type KnownNodeTypes, type RunCredentials } from './support/examples';
import { N8nInstance, e2eEnvironment, type E2eEnvironment } from './support/n8n';
import { describePackedPackage, undeclaredParameters, type PackedPackage } from './support/package';
import { SmtpSink } from './support/smtp-sink';
import { KEYCRATE_CREDENTIAL_TYPE } from './support/workflows';
import { PACKAGE_NAME } from './support/community-package';

const ON_N8N = `on n8n ${process.env.KEYCRATE_E2E_N8N_VERSION ?? '(unset)'}`;
const FILES = exampleFiles();
const CREDENTIALS: RunCredentials = {
  [KEYCRATE_CREDENTIAL_TYPE]: { id: 'kcE2eExampleKc01', name: 'Keycrate (emulator)' },
  smtp: { id: 'kcE2eExampleSmtp', name: 'SMTP (sink)' },
};
const EMAIL_SEND = 'n8n-nodes-base.emailSend';

let e2e: E2eEnvironment;
let packed: PackedPackage;
let known: KnownNodeTypes;
let emulator: EmulatorUnderTest;
let smtp: SmtpSink;
let n8n: N8nInstance;

beforeAll(async () => {
  e2e = e2eEnvironment();
  n8n = await N8nInstance.create(e2e, 'n8n-examples');
  packed = await describePackedPackage(e2e, n8n.packageDir);
  known = bundledNodeTypes(e2e.n8nBin);
  for (const node of packed.nodes) {
    known.set(`${PACKAGE_NAME}.${node.name}`, new Set(Array.isArray(node.version) ? node.version : [node.version]));
  }
  emulator = await EmulatorUnderTest.start();
  smtp = await SmtpSink.start();
  await n8n.importCredentials([
    { ...CREDENTIALS[KEYCRATE_CREDENTIAL_TYPE], type: KEYCRATE_CREDENTIAL_TYPE, data: { apiKey: emulator.apiKey, baseUrl: emulator.url, appId: emulator.appId } },
    {
      ...CREDENTIALS.smtp,
      type: 'smtp',
      data: { host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true, user: '', password: '', hostName: '' },
    },
  ]);
});

afterAll(async () => {
  await emulator?.stop();
  await smtp?.stop();
});

describe(`example workflows ${ON_N8N}`, () => {
  test('examples/ holds example workflows', () => {
    expect(FILES.length).toBeGreaterThan(0);
  });

  // jest's .each refuses an empty table; the test above fails then.
  describe.each(FILES.length > 0 ? FILES : ['(none)'])('examples/%s', (file) => {
    if (file === '(none)') return;
    test('uses only node types and versions this n8n has, and only parameters the Keycrate nodes declare', () => {
      const workflow = readExample(file);
      expect(unknownNodeTypes(workflow, known)).toEqual([]);
      expect(undeclaredParameters(workflow.nodes, packed)).toEqual([]);
    });

    test('imports with `n8n import:workflow`', async () => {
      await n8n.importWorkflows([readExample(file)]);
    });

    test('runs against the emulator unless it needs Stripe', async () => {
      const plan = runnableCopy(readExample(file), `kcE2eExample${String(FILES.indexOf(file)).padStart(4, '0')}`, CREDENTIALS);
      if (!plan.runnable) {
        // Only Stripe is out of reach; any other reason is a gap in this suite.
        expect(plan.reason).toBe('needs Stripe');
        return;
      }
      const callsBefore = await emulator.calls();
      const mailsBefore = smtp.messages.length;
      await n8n.importWorkflows([plan.workflow]);
      const run = await n8n.execute(String(plan.workflow.id));
      expect(run.output.data.resultData.error).toBeUndefined();

      const keycrateNodes = plan.workflow.nodes.filter((node) => node.type.startsWith(`${PACKAGE_NAME}.`)).map((node) => node.name);
      expect(run.executedNodes.filter((name) => keycrateNodes.includes(name)).length).toBeGreaterThan(0);
      const callsAfter = await emulator.calls();
      const total = (calls: typeof callsAfter) => Object.values(calls).flatMap((byStatus) => Object.values(byStatus)).reduce((sum, n) => sum + n, 0);
      expect(total(callsAfter)).toBeGreaterThan(total(callsBefore));

      // Every Send Email that ran sent its mails to the sink.
      const emailNodes = plan.workflow.nodes.filter((node) => node.type === EMAIL_SEND).map((node) => node.name);
      const sent = emailNodes.filter((name) => run.executedNodes.includes(name)).reduce((sum, name) => sum + run.items(name).length, 0);
      expect(smtp.messages.length - mailsBefore).toBe(sent);
    });
  });
});
