// One DynamoDB scenario with the AWS SDK for JavaScript v3 against m2sec: the low-level client
// (@aws-sdk/client-dynamodb) for the table and its waiters, the DynamoDBDocumentClient (@aws-sdk/lib-dynamodb)
// for the items. A KMS key made in the same run encrypts the table (SSESpecification). Items carry numbers
// (integers, decimals, negatives, a 23-digit number as NumberValue), string and number sets (JS Sets) and
// nested maps and lists. Covers put/get/update with conditions and ReturnValues ALL_NEW, query with
// KeyConditionExpression paged by Limit + ExclusiveStartKey, scan with FilterExpression, batchWrite,
// a transactWrite cancelled by a failing condition (TransactionCanceledException with CancellationReasons),
// delete and deleteTable.
// Prints one JSON summary line on success (tests/e2e/test_dynamodb_js_sdks.py checks it against boto3);
// on the first mismatch prints what came back and exits 1.
// Usage: node dynamodb.mjs   (endpoint from AWS_ENDPOINT_URL, credentials and Region from AWS_*)
import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient, CreateTableCommand, DeleteTableCommand, DescribeTableCommand, GetItemCommand,
  waitUntilTableExists, waitUntilTableNotExists, ConditionalCheckFailedException, TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient, PutCommand, GetCommand, UpdateCommand, QueryCommand, ScanCommand, BatchWriteCommand,
  TransactWriteCommand, DeleteCommand, NumberValue,
} from '@aws-sdk/lib-dynamodb';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';

class Mismatch extends Error {}

function check(condition, what, actual) {
  if (!condition) throw new Mismatch(`${what}: got ${JSON.stringify(plain(actual))}`);
}

// Plain JSON for what the SDK returned, object keys sorted: Sets as {$set: sorted values}, NumberValue as
// {$number: its string}.
function plain(value) {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Set) return { $set: [...value].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
  if (value instanceof NumberValue) return { $number: value.toString() };
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, plain(value[k])]));
}

function same(a, b) {
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}

async function expectError(type, call) {
  try {
    await call();
  } catch (error) {
    check(error instanceof type, `error class (expected ${type.name})`, `${error.name}: ${error.message}`);
    check(error.name === type.name, `error name (expected ${type.name})`, error.name);
    check(error.$fault === 'client', `${type.name} $fault`, error.$fault);
    check(error.$metadata?.httpStatusCode === 400, `${type.name} HTTP status`, error.$metadata);
    return error;
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
const ddb = new DynamoDBClient(config);
const doc = DynamoDBDocumentClient.from(ddb, {
  marshallOptions: { removeUndefinedValues: true },
  unmarshallOptions: { wrapNumbers: false },
});
// A document client reading numbers as NumberValue (their exact decimal string). It needs a DynamoDBClient of
// its own: DynamoDBDocumentClient.from() keeps its options on the client's config, shared by every document
// client made from that client.
const exact = DynamoDBDocumentClient.from(new DynamoDBClient(config), { unmarshallOptions: { wrapNumbers: true } });
const run = randomUUID().slice(0, 8);
const TableName = `sdk-js-v3-${run}`;
const BIG = '12345678901234567890123';

async function main() {
  const key = (await kms.send(new CreateKeyCommand({ Description: `DynamoDB table key ${run}` }))).KeyMetadata;

  const created = (await ddb.send(new CreateTableCommand({
    TableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    BillingMode: 'PAY_PER_REQUEST',
    SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: key.KeyId },
  }))).TableDescription;
  check(created.TableName === TableName, 'CreateTable TableName', created.TableName);
  check(['CREATING', 'ACTIVE'].includes(created.TableStatus), 'CreateTable TableStatus', created.TableStatus);
  check(created.TableArn.endsWith(`:table/${TableName}`), 'CreateTable TableArn', created.TableArn);
  check(created.SSEDescription?.SSEType === 'KMS' && created.SSEDescription.KMSMasterKeyArn === key.Arn,
    'CreateTable SSEDescription', created.SSEDescription);

  const waited = await waitUntilTableExists({ client: ddb, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName });
  check(waited.state === 'SUCCESS', 'waitUntilTableExists state', waited.state);
  const described = (await ddb.send(new DescribeTableCommand({ TableName }))).Table;
  check(described.TableStatus === 'ACTIVE', 'DescribeTable TableStatus', described.TableStatus);
  check(described.SSEDescription?.Status === 'ENABLED' && described.SSEDescription.KMSMasterKeyArn === key.Arn,
    'DescribeTable SSEDescription', described.SSEDescription);

  // put: numbers, sets, nested maps and lists, booleans and null.
  const item = {
    pk: 'user#1', sk: 0, name: 'Ada', n: 41, price: 3.25, delta: -7, zero: 0,
    tags: new Set(['admin', 'dev']), scores: new Set([1, 2.5, 30]),
    profile: { address: { city: 'Paris', zip: '75001' }, langs: ['en', 'fr', { level: 2 }], active: true, none: null },
  };
  await doc.send(new PutCommand({ TableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
  await exact.send(new PutCommand({ TableName, Item: { pk: 'big', sk: 0, v: NumberValue.from(BIG) } }));
  const putAgain = await expectError(ConditionalCheckFailedException, () => doc.send(new PutCommand({
    TableName, Item: { ...item, name: 'Eve' }, ConditionExpression: 'attribute_not_exists(pk)',
  })));

  // get: the document types come back as they went in; the wire types are the ones DynamoDB would use.
  const got = (await doc.send(new GetCommand({ TableName, Key: { pk: 'user#1', sk: 0 }, ConsistentRead: true }))).Item;
  check(same(got, item), 'GetCommand Item', got);
  const wire = (await ddb.send(new GetItemCommand({ TableName, Key: { pk: { S: 'user#1' }, sk: { N: '0' } } }))).Item;
  check(same(wire.tags, { SS: ['admin', 'dev'] }), 'tags is a string set', wire.tags);
  check(same({ NS: [...wire.scores.NS].sort() }, { NS: ['1', '2.5', '30'] }), 'scores is a number set', wire.scores);
  check(wire.price.N === '3.25' && wire.delta.N === '-7' && wire.zero.N === '0', 'number strings', wire);
  check(wire.profile.M.address.M.city.S === 'Paris' && wire.profile.M.langs.L[2].M.level.N === '2'
    && wire.profile.M.active.BOOL === true && wire.profile.M.none.NULL === true, 'nested map on the wire', wire.profile);
  const big = (await exact.send(new GetCommand({ TableName, Key: { pk: 'big', sk: 0 } }))).Item;
  check(big.v instanceof NumberValue && big.v.toString() === BIG, 'a 23-digit number, exact', big.v);

  // update: arithmetic, a nested path, ADD to a set, REMOVE, under a condition; ALL_NEW returns the item.
  const updated = (await doc.send(new UpdateCommand({
    TableName, Key: { pk: 'user#1', sk: 0 },
    UpdateExpression: 'SET n = n + :one, profile.address.city = :city, #seen = list_append(if_not_exists(#seen, :empty), :now) '
      + 'ADD tags :more REMOVE price',
    ConditionExpression: 'n = :expected AND contains(tags, :admin)',
    ExpressionAttributeNames: { '#seen': 'seen' },
    ExpressionAttributeValues: {
      ':one': 1, ':city': 'Lyon', ':empty': [], ':now': ['v3'], ':more': new Set(['ops']), ':expected': 41,
      ':admin': 'admin',
    },
    ReturnValues: 'ALL_NEW',
  }))).Attributes;
  const expectedUpdated = {
    ...item, n: 42, tags: new Set(['admin', 'dev', 'ops']), seen: ['v3'],
    profile: { ...item.profile, address: { city: 'Lyon', zip: '75001' } },
  };
  delete expectedUpdated.price;
  check(same(updated, expectedUpdated), 'UpdateCommand ALL_NEW Attributes', updated);
  const updateFailed = await expectError(ConditionalCheckFailedException, () => doc.send(new UpdateCommand({
    TableName, Key: { pk: 'user#1', sk: 0 }, UpdateExpression: 'SET n = :zero', ConditionExpression: 'n = :expected',
    ExpressionAttributeValues: { ':zero': 0, ':expected': 41 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  })));
  check(updateFailed.Item?.n?.N === '42', 'ConditionalCheckFailedException Item (ALL_OLD)', updateFailed.Item);

  // batchWrite: seven items under one partition key, then one of them deleted in a second batch.
  const batch = await doc.send(new BatchWriteCommand({
    RequestItems: {
      [TableName]: [1, 2, 3, 4, 5, 6, 7].map((sk) => ({
        PutRequest: { Item: { pk: 'orders', sk, total: sk * 10.5, kind: sk % 2 ? 'odd' : 'even', lines: { count: sk } } },
      })),
    },
  }));
  const unprocessed = Object.keys(batch.UnprocessedItems ?? {}).length;
  check(unprocessed === 0, 'BatchWrite UnprocessedItems', batch.UnprocessedItems);
  await doc.send(new BatchWriteCommand({
    RequestItems: { [TableName]: [{ DeleteRequest: { Key: { pk: 'orders', sk: 7 } } }] },
  }));

  // query: sk BETWEEN 2 AND 6, two at a time, following LastEvaluatedKey by hand.
  const queried = [];
  let pages = 0;
  let startKey;
  do {
    const page = await doc.send(new QueryCommand({
      TableName, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': 'orders', ':lo': 2, ':hi': 6 }, Limit: 2, ExclusiveStartKey: startKey,
    }));
    pages += 1;
    check(page.Items.length <= 2 && page.Count === page.Items.length, 'Query page size', page.Count);
    queried.push(...page.Items);
    startKey = page.LastEvaluatedKey;
    if (startKey) check(same(startKey, { pk: 'orders', sk: page.Items.at(-1).sk }), 'Query LastEvaluatedKey', startKey);
    check(pages <= 10, 'Query paging ends', pages);
  } while (startKey);
  check(same(queried.map((i) => i.sk), [2, 3, 4, 5, 6]), 'Query items in sort key order', queried);
  check(queried.every((i) => i.total === i.sk * 10.5 && i.lines.count === i.sk), 'Query item contents', queried);
  const backwards = await doc.send(new QueryCommand({
    TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'orders' },
    ScanIndexForward: false, Limit: 1,
  }));
  check(backwards.Items[0].sk === 6, 'Query ScanIndexForward false', backwards.Items);

  // scan with a filter: the odd orders with a total over 20, and the user by a nested attribute.
  const scanned = await doc.send(new ScanCommand({
    TableName, FilterExpression: 'kind = :odd AND #total > :min', ExpressionAttributeNames: { '#total': 'total' },
    ExpressionAttributeValues: { ':odd': 'odd', ':min': 20 }, ConsistentRead: true,
  }));
  check(same(scanned.Items.map((i) => i.sk).sort(), [3, 5]), 'Scan FilterExpression Items', scanned.Items);
  check(scanned.ScannedCount === 8 && scanned.Count === 2, 'Scan counts', [scanned.ScannedCount, scanned.Count]);
  const byNested = await doc.send(new ScanCommand({
    TableName, FilterExpression: 'profile.address.city = :city AND contains(profile.langs, :fr)',
    ExpressionAttributeValues: { ':city': 'Lyon', ':fr': 'fr' },
  }));
  check(byNested.Items.length === 1 && byNested.Items[0].pk === 'user#1', 'Scan on a nested path', byNested.Items);

  // transactWrite: a Put and an Update whose condition fails; nothing is written.
  const cancelled = await expectError(TransactionCanceledException, () => doc.send(new TransactWriteCommand({
    TransactItems: [
      { Put: { TableName, Item: { pk: 'tx', sk: 1, v: 'written?' } } },
      {
        Update: {
          TableName, Key: { pk: 'user#1', sk: 0 }, UpdateExpression: 'SET n = n + :one', ConditionExpression: 'n > :max',
          ExpressionAttributeValues: { ':one': 1, ':max': 100 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ],
  })));
  const reasons = cancelled.CancellationReasons ?? [];
  check(reasons.length === 2 && reasons[0].Code === 'None' && reasons[1].Code === 'ConditionalCheckFailed',
    'TransactionCanceledException CancellationReasons', reasons);
  check(reasons[1].Item?.n?.N === '42', 'CancellationReasons Item (ALL_OLD)', reasons[1]);
  check(!(await doc.send(new GetCommand({ TableName, Key: { pk: 'tx', sk: 1 } }))).Item, 'cancelled Put wrote nothing', null);
  const after = (await doc.send(new GetCommand({ TableName, Key: { pk: 'user#1', sk: 0 } }))).Item;
  check(after.n === 42, 'cancelled Update changed nothing', after.n);
  await doc.send(new TransactWriteCommand({
    TransactItems: [
      { Put: { TableName, Item: { pk: 'tx', sk: 1, v: 'written' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName, Key: { pk: 'user#1', sk: 0 }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
    ],
  }));
  const committed = (await doc.send(new GetCommand({ TableName, Key: { pk: 'user#1', sk: 0 } }))).Item;
  check(committed.n === 43, 'committed transaction Update', committed.n);

  // delete with ALL_OLD, then the table.
  const old = (await doc.send(new DeleteCommand({
    TableName, Key: { pk: 'user#1', sk: 0 }, ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD',
  }))).Attributes;
  check(old?.name === 'Ada' && old.n === 43, 'DeleteCommand ALL_OLD Attributes', old);
  check(!(await doc.send(new GetCommand({ TableName, Key: { pk: 'user#1', sk: 0 } }))).Item, 'deleted item is gone', null);
  const deleteMissing = await expectError(ConditionalCheckFailedException, () => doc.send(new DeleteCommand({
    TableName, Key: { pk: 'user#1', sk: 0 }, ConditionExpression: 'attribute_exists(pk)',
  })));
  const remaining = await doc.send(new ScanCommand({ TableName, Select: 'COUNT' }));

  const deleted = (await ddb.send(new DeleteTableCommand({ TableName }))).TableDescription;
  check(deleted.TableName === TableName, 'DeleteTable TableName', deleted);
  const gone = await waitUntilTableNotExists({ client: ddb, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName });
  check(gone.state === 'SUCCESS', 'waitUntilTableNotExists state', gone.state);

  console.log(JSON.stringify(plain({
    sdk: 'aws-sdk-js-v3',
    client: 'DynamoDBDocumentClient',
    node: process.version,
    table: TableName,
    tableArn: created.TableArn,
    keyId: key.KeyId,
    keyArn: key.Arn,
    sse: described.SSEDescription,
    item: got,
    updated,
    big: big.v.toString(),
    query: { pages, sortKeys: queried.map((i) => i.sk) },
    scan: { count: scanned.Count, scannedCount: scanned.ScannedCount },
    batchWrite: { unprocessed },
    errors: {
      putAgain: putAgain.name,
      updateFailed: updateFailed.name,
      deleteMissing: deleteMissing.name,
      transaction: { name: cancelled.name, reasons: reasons.map((r) => r.Code) },
    },
    remaining: remaining.Count,
    deletedStatus: deleted.TableStatus,
  })));
}

main().catch((error) => {
  if (error instanceof Mismatch) {
    console.error(`mismatch: ${error.message}`);
  } else {
    console.error(`unexpected error: ${error.name}: ${error.message}`);
    if (error.$metadata) console.error(`$metadata: ${JSON.stringify(error.$metadata)}`);
    console.error(error.stack);
  }
  process.exit(1);
});
