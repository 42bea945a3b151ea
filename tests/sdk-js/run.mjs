// One scenario over KMS, SSM, STS and CloudTrail with the AWS SDK for JavaScript v3 against m2sec.
// The endpoint comes from AWS_ENDPOINT_URL (which the SDK reads itself; it is also passed explicitly),
// credentials and Region from the usual AWS_* variables. Prints one JSON summary line on success; on the
// first mismatch prints what was expected and what came back, and exits 1.
// Usage: node run.mjs   (tests/e2e/test_sdks.py runs it against a fresh server)
import { randomUUID } from 'node:crypto';
import {
  KMSClient, CreateKeyCommand, CreateAliasCommand, EncryptCommand, DecryptCommand, GenerateDataKeyCommand,
  DescribeKeyCommand, DisableKeyCommand, paginateListKeys, NotFoundException, DisabledException,
  InvalidCiphertextException,
} from '@aws-sdk/client-kms';
import {
  SSMClient, PutParameterCommand, GetParameterCommand, paginateGetParametersByPath, ParameterNotFound,
} from '@aws-sdk/client-ssm';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';

class Mismatch extends Error {}

function check(condition, what, actual) {
  if (!condition) throw new Mismatch(`${what}: got ${JSON.stringify(actual)}`);
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// Runs `call`, which must fail with the SDK's modelled exception `type`; returns what the summary records.
async function expectError(type, status, call) {
  try {
    await call();
  } catch (error) {
    check(error instanceof type, `error class (expected ${type.name})`, `${error.name}: ${error.message}`);
    check(error.name === type.name, `error name (expected ${type.name})`, error.name);
    check(error.$fault === 'client', `${type.name} $fault`, error.$fault);
    check(error.$metadata?.httpStatusCode === status, `${type.name} HTTP status (expected ${status})`,
      error.$metadata);
    check(typeof error.$metadata.requestId === 'string' && error.$metadata.requestId.length > 0,
      `${type.name} request id`, error.$metadata);
    return { name: error.name, httpStatusCode: error.$metadata.httpStatusCode };
  }
  throw new Mismatch(`expected ${type.name}, the call succeeded`);
}

const endpoint = process.env.AWS_ENDPOINT_URL;
const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
if (!endpoint || !region) {
  console.error('AWS_ENDPOINT_URL and AWS_REGION (or AWS_DEFAULT_REGION) must be set');
  process.exit(2);
}
const config = { endpoint, region, maxAttempts: 1 };
const kms = new KMSClient(config);
const ssm = new SSMClient(config);
const sts = new STSClient(config);
const cloudtrail = new CloudTrailClient(config);
const run = randomUUID().slice(0, 8);

async function kmsScenario() {
  const created = await kms.send(new CreateKeyCommand({ Description: `sdk-js ${run}` }));
  const key = created.KeyMetadata;
  check(/^[0-9a-f-]{36}$/.test(key.KeyId), 'CreateKey KeyId', key.KeyId);
  check(key.Arn.endsWith(`:key/${key.KeyId}`) && key.Arn.includes(`:kms:${region}:`), 'CreateKey Arn', key.Arn);
  check(key.KeyState === 'Enabled' && key.Enabled === true, 'CreateKey KeyState', key);
  check(key.KeySpec === 'SYMMETRIC_DEFAULT' && key.KeyUsage === 'ENCRYPT_DECRYPT', 'CreateKey spec', key);
  check(key.CreationDate instanceof Date && !Number.isNaN(key.CreationDate.getTime()), 'CreateKey CreationDate',
    key.CreationDate);
  check(created.$metadata.httpStatusCode === 200, 'CreateKey HTTP status', created.$metadata);

  const alias = `alias/sdk-js-${run}`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyId }));

  const context = { purpose: 'sdk-e2e', sdk: 'js-v3' };
  const plaintext = new TextEncoder().encode(`hello from the JS SDK ${run}`);
  const encrypted = await kms.send(new EncryptCommand({ KeyId: alias, Plaintext: plaintext, EncryptionContext: context }));
  check(encrypted.KeyId === key.Arn, 'Encrypt KeyId', encrypted.KeyId);
  check(encrypted.EncryptionAlgorithm === 'SYMMETRIC_DEFAULT', 'Encrypt algorithm', encrypted.EncryptionAlgorithm);
  check(encrypted.CiphertextBlob instanceof Uint8Array && encrypted.CiphertextBlob.length > plaintext.length,
    'Encrypt CiphertextBlob', encrypted.CiphertextBlob?.length);
  const decrypted = await kms.send(new DecryptCommand({
    CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context,
  }));
  check(equalBytes(decrypted.Plaintext, plaintext), 'Decrypt Plaintext', Buffer.from(decrypted.Plaintext).toString());
  check(decrypted.KeyId === key.Arn, 'Decrypt KeyId', decrypted.KeyId);
  const wrongContext = await expectError(InvalidCiphertextException, 400, () => kms.send(new DecryptCommand({
    CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { ...context, sdk: 'other' },
  })));

  const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: context }));
  check(dataKey.Plaintext.length === 32, 'GenerateDataKey Plaintext length', dataKey.Plaintext.length);
  check(dataKey.KeyId === key.Arn, 'GenerateDataKey KeyId', dataKey.KeyId);
  const reopened = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context }));
  check(equalBytes(reopened.Plaintext, dataKey.Plaintext), 'GenerateDataKey CiphertextBlob decrypts to its Plaintext', null);

  // Two more keys so that pages of one key make at least three pages.
  const others = [];
  for (const i of [1, 2]) {
    others.push((await kms.send(new CreateKeyCommand({ Description: `sdk-js ${run} ${i}` }))).KeyMetadata.KeyId);
  }
  const listed = [];
  let pages = 0;
  for await (const page of paginateListKeys({ client: kms, pageSize: 1 }, {})) {
    pages += 1;
    check(page.Keys.length <= 1, 'ListKeys page size', page.Keys.length);
    listed.push(...page.Keys.map((k) => k.KeyId));
    check(pages <= 10000, 'ListKeys pagination ends', pages);
  }
  for (const id of [key.KeyId, ...others]) check(listed.includes(id), `ListKeys lists ${id}`, listed);
  check(new Set(listed).size === listed.length, 'ListKeys lists each key once', listed);
  check(pages >= 3, 'ListKeys pages', pages);

  const missing = await expectError(NotFoundException, 400,
    () => kms.send(new DescribeKeyCommand({ KeyId: randomUUID() })));
  await kms.send(new DisableKeyCommand({ KeyId: others[0] }));
  const disabled = await expectError(DisabledException, 400, () => kms.send(new EncryptCommand({
    KeyId: others[0], Plaintext: plaintext,
  })));

  return {
    key, alias,
    summary: {
      keyId: key.KeyId, keyArn: key.Arn, alias, dataKeyBytes: dataKey.Plaintext.length,
      listKeys: { pages, keys: listed.length },
      errors: { missingKey: missing, disabledKey: disabled, wrongContext },
    },
  };
}

async function ssmScenario(alias) {
  const prefix = `/sdk-js/${run}`;
  const secret = `s3cret-${run}`;
  const put = await ssm.send(new PutParameterCommand({
    Name: `${prefix}/secret`, Value: secret, Type: 'SecureString', KeyId: alias,
  }));
  check(put.Version === 1, 'PutParameter Version', put.Version);
  check(put.Tier === 'Standard', 'PutParameter Tier', put.Tier);
  const got = (await ssm.send(new GetParameterCommand({ Name: `${prefix}/secret`, WithDecryption: true }))).Parameter;
  check(got.Value === secret, 'GetParameter WithDecryption Value', got.Value);
  check(got.Type === 'SecureString' && got.Version === 1, 'GetParameter Type and Version', got);
  check(got.LastModifiedDate instanceof Date, 'GetParameter LastModifiedDate', got.LastModifiedDate);
  check(got.ARN.endsWith(`:parameter${prefix}/secret`), 'GetParameter ARN', got.ARN);
  const sealed = (await ssm.send(new GetParameterCommand({ Name: `${prefix}/secret` }))).Parameter;
  check(sealed.Value !== secret && sealed.Value.length > 0, 'GetParameter without decryption hides the value',
    sealed.Value);

  const names = [];
  for (let i = 0; i < 5; i += 1) {
    names.push(`${prefix}/tree/${i % 2 ? 'odd' : 'even'}/p${i}`);
    await ssm.send(new PutParameterCommand({ Name: names[i], Value: `v${i}`, Type: 'String' }));
  }
  const found = [];
  let pages = 0;
  const paginator = paginateGetParametersByPath({ client: ssm, pageSize: 2 }, { Path: `${prefix}/tree`, Recursive: true });
  for await (const page of paginator) {
    pages += 1;
    check(page.Parameters.length <= 2, 'GetParametersByPath page size', page.Parameters.length);
    found.push(...page.Parameters.map((p) => [p.Name, p.Value]));
    check(pages <= 100, 'GetParametersByPath pagination ends', pages);
  }
  check(JSON.stringify(found.map(([n]) => n).sort()) === JSON.stringify([...names].sort()),
    'GetParametersByPath names', found);
  check(found.every(([n, v]) => v === `v${names.indexOf(n)}`), 'GetParametersByPath values', found);
  check(pages >= 3, 'GetParametersByPath pages', pages);

  const notFound = await expectError(ParameterNotFound, 400,
    () => ssm.send(new GetParameterCommand({ Name: `${prefix}/not-there` })));
  return { parameterVersion: put.Version, byPath: { pages, parameters: found.length }, errors: { missingParameter: notFound } };
}

async function stsScenario() {
  const me = await sts.send(new GetCallerIdentityCommand({}));
  check(/^\d{12}$/.test(me.Account), 'GetCallerIdentity Account', me.Account);
  check(me.Arn.startsWith(`arn:aws:iam::${me.Account}:`) || me.Arn.startsWith(`arn:aws:sts::${me.Account}:`),
    'GetCallerIdentity Arn', me.Arn);
  check(typeof me.UserId === 'string' && me.UserId.length > 0, 'GetCallerIdentity UserId', me.UserId);
  return { account: me.Account, arn: me.Arn, userId: me.UserId };
}

async function cloudtrailScenario(key) {
  const out = await cloudtrail.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.Arn }],
    MaxResults: 50,
  }));
  const created = out.Events.filter((e) => e.EventName === 'CreateKey');
  check(created.length === 1, 'LookupEvents by ResourceName finds the CreateKey event',
    out.Events.map((e) => e.EventName));
  const [event] = created;
  check(event.EventSource === 'kms.amazonaws.com', 'CreateKey event EventSource', event.EventSource);
  check(event.EventTime instanceof Date && !Number.isNaN(event.EventTime.getTime()), 'CreateKey event EventTime',
    event.EventTime);
  check(event.Resources?.some((r) => r.ResourceName === key.Arn), 'CreateKey event Resources', event.Resources);
  const record = JSON.parse(event.CloudTrailEvent);
  check(record.eventName === 'CreateKey' && record.responseElements?.keyMetadata?.keyId === key.KeyId,
    'CreateKey record', record);

  const byName = await cloudtrail.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }],
  }));
  check(byName.Events.length >= 3 && byName.Events.every((e) => e.EventName === 'CreateKey'),
    'LookupEvents by EventName', byName.Events.map((e) => e.EventName));
  check(byName.Events.some((e) => e.EventId === event.EventId), 'LookupEvents by EventName finds the event',
    byName.Events.map((e) => e.EventId));
  return { createKeyEventId: event.EventId, createKeyEvents: byName.Events.length };
}

async function main() {
  const { key, alias, summary: kmsSummary } = await kmsScenario();
  const summary = {
    sdk: 'aws-sdk-js-v3',
    node: process.version,
    kms: kmsSummary,
    ssm: await ssmScenario(alias),
    sts: await stsScenario(),
    cloudtrail: await cloudtrailScenario(key),
  };
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  if (error instanceof Mismatch) {
    console.error(`mismatch: ${error.message}`);
  } else {
    console.error(`unexpected error: ${error.name}: ${error.message}`);
    if (error.$metadata) console.error(`$metadata: ${JSON.stringify(error.$metadata)}`);
    if (error.$response) {
      const { statusCode, headers } = error.$response;
      console.error(`response: ${JSON.stringify({ statusCode, headers })}`);
    }
    console.error(error.stack);
  }
  process.exit(1);
});
