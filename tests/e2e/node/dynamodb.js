// One DynamoDB scenario with aws-sdk v2's AWS.DynamoDB.DocumentClient against m2sec: AWS.DynamoDB for the
// table (createTable under a KMS key made through AWS.KMS in the same run, waitFor tableExists and
// tableNotExists, deleteTable), the DocumentClient for the items. Items carry numbers (integers, decimals,
// negatives, a 23-digit number through wrapNumbers), sets made with createSet (strings and numbers) and
// nested maps and lists. Covers put/get/update with conditions and ReturnValues ALL_NEW, query with
// KeyConditionExpression paged by Limit + ExclusiveStartKey, scan with FilterExpression, batchWrite,
// a transactWrite cancelled by a failing condition (TransactionCanceledException; aws-sdk v2 keeps the
// response's CancellationReasons on the error) and delete.
// Prints one JSON summary line on success (tests/e2e/test_dynamodb_js_sdks.py checks it against boto3);
// on the first mismatch prints what came back and exits 1.
// Usage: node dynamodb.js   (aws-sdk v2 does not read AWS_ENDPOINT_URL: it is passed to each client)
const crypto = require('crypto');
const AWS = require('aws-sdk');
const NumberValue = require('aws-sdk/lib/dynamodb/numberValue');

class Mismatch extends Error {}

function check(condition, what, actual) {
  if (!condition) throw new Mismatch(`${what}: got ${JSON.stringify(plain(actual))}`);
}

// Plain JSON for what the SDK returned, object keys sorted: DynamoDB sets as {$set: sorted values}, wrapped
// numbers as {$number: their string}. (Both have a toJSON of their own, which would drop that.)
function plain(value) {
  if (value === null || typeof value !== 'object') return value;
  if (value.wrapperName === 'Set') return { $set: [...value.values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
  if (value.wrapperName === 'NumberValue') return { $number: value.toString() };
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, plain(value[k])]));
}

function same(a, b) {
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}

async function expectError(code, call) {
  try {
    await call();
  } catch (error) {
    check(error.code === code, `error code (expected ${code})`, `${error.code}: ${error.message}`);
    check(error.statusCode === 400, `${code} HTTP status`, error.statusCode);
    check(error.retryable === false, `${code} retryable`, error.retryable);
    check(typeof error.requestId === 'string' && error.requestId.length > 0, `${code} request id`, error.requestId);
    return error;
  }
  throw new Mismatch(`expected ${code}, the call succeeded`);
}

const endpoint = process.env.AWS_ENDPOINT_URL;
const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
if (!endpoint || !region) {
  console.error('AWS_ENDPOINT_URL and AWS_REGION (or AWS_DEFAULT_REGION) must be set');
  process.exit(2);
}
const config = { endpoint, region, maxRetries: 0 };
const kms = new AWS.KMS(config);
const dynamodb = new AWS.DynamoDB(config);
const doc = new AWS.DynamoDB.DocumentClient({ service: dynamodb });
// The same client reading numbers as NumberValue (their exact decimal string).
const exact = new AWS.DynamoDB.DocumentClient({ service: dynamodb, wrapNumbers: true });
const run = crypto.randomUUID().slice(0, 8);
const TableName = `sdk-js-v2-${run}`;
const BIG = '12345678901234567890123';

async function main() {
  const key = (await kms.createKey({ Description: `DynamoDB table key ${run}` }).promise()).KeyMetadata;

  const created = (await dynamodb.createTable({
    TableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    BillingMode: 'PAY_PER_REQUEST',
    SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: key.Arn },
  }).promise()).TableDescription;
  check(created.TableName === TableName, 'createTable TableName', created.TableName);
  check(['CREATING', 'ACTIVE'].includes(created.TableStatus), 'createTable TableStatus', created.TableStatus);
  check(created.SSEDescription && created.SSEDescription.SSEType === 'KMS'
    && created.SSEDescription.KMSMasterKeyArn === key.Arn, 'createTable SSEDescription', created.SSEDescription);

  const waited = await dynamodb.waitFor('tableExists', { TableName, $waiter: { delay: 1, maxAttempts: 60 } }).promise();
  check(waited.Table.TableStatus === 'ACTIVE', 'waitFor tableExists TableStatus', waited.Table.TableStatus);
  const sse = waited.Table.SSEDescription;
  check(sse && sse.Status === 'ENABLED' && sse.KMSMasterKeyArn === key.Arn, 'describeTable SSEDescription', sse);

  // put: numbers, sets, nested maps and lists, booleans and null.
  const item = {
    pk: 'user#1', sk: 0, name: 'Ada', n: 41, price: 3.25, delta: -7, zero: 0,
    tags: doc.createSet(['admin', 'dev']), scores: doc.createSet([1, 2.5, 30]),
    profile: { address: { city: 'Paris', zip: '75001' }, langs: ['en', 'fr', { level: 2 }], active: true, none: null },
  };
  await doc.put({ TableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }).promise();
  await exact.put({ TableName, Item: { pk: 'big', sk: 0, v: new NumberValue(BIG) } }).promise();
  const putAgain = await expectError('ConditionalCheckFailedException', () => doc.put({
    TableName, Item: { ...item, name: 'Eve' }, ConditionExpression: 'attribute_not_exists(pk)',
  }).promise());

  // get: the document types come back as they went in; the wire types are the ones DynamoDB would use.
  const got = (await doc.get({ TableName, Key: { pk: 'user#1', sk: 0 }, ConsistentRead: true }).promise()).Item;
  check(same(got, item), 'get Item', got);
  check(got.tags.type === 'String' && got.scores.type === 'Number', 'get set types', [got.tags.type, got.scores.type]);
  const wire = (await dynamodb.getItem({ TableName, Key: { pk: { S: 'user#1' }, sk: { N: '0' } } }).promise()).Item;
  check(same({ SS: [...wire.tags.SS].sort() }, { SS: ['admin', 'dev'] }), 'tags is a string set', wire.tags);
  check(same({ NS: [...wire.scores.NS].sort() }, { NS: ['1', '2.5', '30'] }), 'scores is a number set', wire.scores);
  check(wire.price.N === '3.25' && wire.delta.N === '-7' && wire.zero.N === '0', 'number strings', wire);
  check(wire.profile.M.address.M.city.S === 'Paris' && wire.profile.M.langs.L[2].M.level.N === '2'
    && wire.profile.M.active.BOOL === true && wire.profile.M.none.NULL === true, 'nested map on the wire', wire.profile);
  const big = (await exact.get({ TableName, Key: { pk: 'big', sk: 0 } }).promise()).Item;
  check(big.v.wrapperName === 'NumberValue' && big.v.toString() === BIG, 'a 23-digit number, exact', big.v);

  // update: arithmetic, a nested path, ADD to a set, REMOVE, under a condition; ALL_NEW returns the item.
  const updated = (await doc.update({
    TableName, Key: { pk: 'user#1', sk: 0 },
    UpdateExpression: 'SET n = n + :one, profile.address.city = :city, #seen = list_append(if_not_exists(#seen, :empty), :now) '
      + 'ADD tags :more REMOVE price',
    ConditionExpression: 'n = :expected AND contains(tags, :admin)',
    ExpressionAttributeNames: { '#seen': 'seen' },
    ExpressionAttributeValues: {
      ':one': 1, ':city': 'Lyon', ':empty': [], ':now': ['v2'], ':more': doc.createSet(['ops']), ':expected': 41,
      ':admin': 'admin',
    },
    ReturnValues: 'ALL_NEW',
  }).promise()).Attributes;
  const expectedUpdated = {
    ...item, n: 42, tags: doc.createSet(['admin', 'dev', 'ops']), seen: ['v2'],
    profile: { ...item.profile, address: { city: 'Lyon', zip: '75001' } },
  };
  delete expectedUpdated.price;
  check(same(updated, expectedUpdated), 'update ALL_NEW Attributes', updated);
  const updateFailed = await expectError('ConditionalCheckFailedException', () => doc.update({
    TableName, Key: { pk: 'user#1', sk: 0 }, UpdateExpression: 'SET n = :zero', ConditionExpression: 'n = :expected',
    ExpressionAttributeValues: { ':zero': 0, ':expected': 41 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  }).promise());
  check(updateFailed.Item && updateFailed.Item.n.N === '42', 'ConditionalCheckFailedException Item (ALL_OLD)',
    updateFailed.Item);

  // batchWrite: seven items under one partition key, then one of them deleted in a second batch.
  const batch = await doc.batchWrite({
    RequestItems: {
      [TableName]: [1, 2, 3, 4, 5, 6, 7].map((sk) => ({
        PutRequest: { Item: { pk: 'orders', sk, total: sk * 10.5, kind: sk % 2 ? 'odd' : 'even', lines: { count: sk } } },
      })),
    },
  }).promise();
  const unprocessed = Object.keys(batch.UnprocessedItems || {}).length;
  check(unprocessed === 0, 'batchWrite UnprocessedItems', batch.UnprocessedItems);
  await doc.batchWrite({ RequestItems: { [TableName]: [{ DeleteRequest: { Key: { pk: 'orders', sk: 7 } } }] } }).promise();

  // query: sk BETWEEN 2 AND 6, two at a time, following LastEvaluatedKey by hand.
  const queried = [];
  let pages = 0;
  let startKey;
  do {
    const page = await doc.query({
      TableName, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': 'orders', ':lo': 2, ':hi': 6 }, Limit: 2, ExclusiveStartKey: startKey,
    }).promise();
    pages += 1;
    check(page.Items.length <= 2 && page.Count === page.Items.length, 'query page size', page.Count);
    queried.push(...page.Items);
    startKey = page.LastEvaluatedKey;
    if (startKey) {
      check(same(startKey, { pk: 'orders', sk: page.Items[page.Items.length - 1].sk }), 'query LastEvaluatedKey', startKey);
    }
    check(pages <= 10, 'query paging ends', pages);
  } while (startKey);
  check(same(queried.map((i) => i.sk), [2, 3, 4, 5, 6]), 'query items in sort key order', queried);
  check(queried.every((i) => i.total === i.sk * 10.5 && i.lines.count === i.sk), 'query item contents', queried);
  const backwards = await doc.query({
    TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'orders' },
    ScanIndexForward: false, Limit: 1,
  }).promise();
  check(backwards.Items[0].sk === 6, 'query ScanIndexForward false', backwards.Items);

  // scan with a filter: the odd orders with a total over 20 (TOTAL is a reserved word), and the user by a
  // nested attribute.
  const scanned = await doc.scan({
    TableName, FilterExpression: 'kind = :odd AND #total > :min', ExpressionAttributeNames: { '#total': 'total' },
    ExpressionAttributeValues: { ':odd': 'odd', ':min': 20 }, ConsistentRead: true,
  }).promise();
  check(same(scanned.Items.map((i) => i.sk).sort(), [3, 5]), 'scan FilterExpression Items', scanned.Items);
  check(scanned.ScannedCount === 8 && scanned.Count === 2, 'scan counts', [scanned.ScannedCount, scanned.Count]);
  const byNested = await doc.scan({
    TableName, FilterExpression: 'profile.address.city = :city AND contains(profile.langs, :fr)',
    ExpressionAttributeValues: { ':city': 'Lyon', ':fr': 'fr' },
  }).promise();
  check(byNested.Items.length === 1 && byNested.Items[0].pk === 'user#1', 'scan on a nested path', byNested.Items);

  // transactWrite: a Put and an Update whose condition fails; nothing is written.
  const cancelled = await expectError('TransactionCanceledException', () => doc.transactWrite({
    TransactItems: [
      { Put: { TableName, Item: { pk: 'tx', sk: 1, v: 'written?' } } },
      {
        Update: {
          TableName, Key: { pk: 'user#1', sk: 0 }, UpdateExpression: 'SET n = n + :one', ConditionExpression: 'n > :max',
          ExpressionAttributeValues: { ':one': 1, ':max': 100 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ],
  }).promise());
  const reasons = cancelled.CancellationReasons || [];
  check(reasons.length === 2 && reasons[0].Code === 'None' && reasons[1].Code === 'ConditionalCheckFailed',
    'TransactionCanceledException CancellationReasons', reasons);
  check(reasons[1].Item && AWS.DynamoDB.Converter.unmarshall(reasons[1].Item).n === 42,
    'CancellationReasons Item (ALL_OLD)', reasons[1]);
  check(cancelled.message.includes('[None, ConditionalCheckFailed]'), 'TransactionCanceledException message',
    cancelled.message);
  check(!(await doc.get({ TableName, Key: { pk: 'tx', sk: 1 } }).promise()).Item, 'cancelled Put wrote nothing', null);
  const after = (await doc.get({ TableName, Key: { pk: 'user#1', sk: 0 } }).promise()).Item;
  check(after.n === 42, 'cancelled Update changed nothing', after.n);
  await doc.transactWrite({
    TransactItems: [
      { Put: { TableName, Item: { pk: 'tx', sk: 1, v: 'written' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName, Key: { pk: 'user#1', sk: 0 }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
    ],
  }).promise();
  const committed = (await doc.get({ TableName, Key: { pk: 'user#1', sk: 0 } }).promise()).Item;
  check(committed.n === 43, 'committed transaction Update', committed.n);

  // delete with ALL_OLD, then the table.
  const old = (await doc.delete({
    TableName, Key: { pk: 'user#1', sk: 0 }, ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD',
  }).promise()).Attributes;
  check(old && old.name === 'Ada' && old.n === 43, 'delete ALL_OLD Attributes', old);
  check(!(await doc.get({ TableName, Key: { pk: 'user#1', sk: 0 } }).promise()).Item, 'deleted item is gone', null);
  const deleteMissing = await expectError('ConditionalCheckFailedException', () => doc.delete({
    TableName, Key: { pk: 'user#1', sk: 0 }, ConditionExpression: 'attribute_exists(pk)',
  }).promise());
  const remaining = await doc.scan({ TableName, Select: 'COUNT' }).promise();

  const deleted = (await dynamodb.deleteTable({ TableName }).promise()).TableDescription;
  check(deleted.TableName === TableName, 'deleteTable TableName', deleted);
  await dynamodb.waitFor('tableNotExists', { TableName, $waiter: { delay: 1, maxAttempts: 60 } }).promise();

  console.log(JSON.stringify(plain({
    sdk: 'aws-sdk-js-v2',
    client: 'DocumentClient',
    version: AWS.VERSION,
    node: process.version,
    table: TableName,
    tableArn: created.TableArn,
    keyId: key.KeyId,
    keyArn: key.Arn,
    sse,
    item: got,
    updated,
    big: big.v.toString(),
    query: { pages, sortKeys: queried.map((i) => i.sk) },
    scan: { count: scanned.Count, scannedCount: scanned.ScannedCount },
    batchWrite: { unprocessed },
    errors: {
      putAgain: putAgain.code,
      updateFailed: updateFailed.code,
      deleteMissing: deleteMissing.code,
      transaction: { name: cancelled.code, reasons: reasons.map((r) => r.Code) },
    },
    remaining: remaining.Count,
    deletedStatus: deleted.TableStatus,
  })));
}

main().catch((error) => {
  if (error instanceof Mismatch) {
    console.error(`mismatch: ${error.message}`);
  } else {
    console.error(`unexpected error: ${error.code || error.name}: ${error.message} (HTTP ${error.statusCode})`);
    console.error(error.stack);
  }
  process.exit(1);
});
