/**
 * MetadataStore over DynamoDB: single-item conditional writes, strongly consistent reads, no
 * transactions (see design.md: they cost double, conflict under load, and dynalite lacks them).
 *
 * The port's conditions and updates are translated to DynamoDB expressions, always through
 * ExpressionAttributeNames/Values placeholders, never by writing a name or value into the text. Where
 * DynamoDB's own semantics differ from the port's (item-semantics.ts), the translation compensates so
 * that every adapter answers alike; each case says how.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClientConfig,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ConditionFailedError, StorageError, ThrottledError, UnavailableError } from '../errors.ts';
import { classifyAwsError, describeAwsError } from './aws-errors.ts';
import type { Clause, Condition, Item, MetadataStore, QueryOptions, Scalar, UpdateChanges, UpdateOptions } from './ports.ts';

export interface DynamoDbMetadataStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** The table this adapter expects: string `pk` (hash) and `sk` (range), on-demand billing. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/**
 * A DynamoDB client for Sluice. The only default is a connection timeout: a connection that never
 * opens carried no request, so the SDK can safely retry it instead of hanging until the Lambda times
 * out. Everything can be overridden.
 */
export function createDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ requestHandler: { connectionTimeout: 3000 }, ...config });
}

export class DynamoDbMetadataStore implements MetadataStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: DynamoDbMetadataStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const response = await this.#send('get', () =>
      this.#client.send(new GetItemCommand({ TableName: this.#table, Key: keyOf(pk, sk), ConsistentRead: true })),
    );
    return response.Item ? unmarshalItem(response.Item) : undefined;
  }

  async put(item: Item, condition?: Condition): Promise<void> {
    const expressions = new Expressions();
    const conditionExpression = expressions.condition(condition);
    const Item = marshalItem(item);
    await this.#send('put', () =>
      this.#client.send(
        new PutItemCommand({ TableName: this.#table, Item, ConditionExpression: conditionExpression, ...expressions.placeholders() }),
      ),
    );
  }

  async update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    const old = options?.returnValues === 'old';
    const expressions = new Expressions();
    const updateExpression = expressions.update(changes);
    const conditionExpression = expressions.condition(condition);
    const response = await this.#send('update', () =>
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: keyOf(pk, sk),
          UpdateExpression: updateExpression,
          ConditionExpression: conditionExpression,
          ...expressions.placeholders(),
          ReturnValues: old ? 'ALL_OLD' : 'ALL_NEW',
        }),
      ),
    );
    // ALL_NEW always returns the item (an update with no changes still creates the keys); ALL_OLD
    // returns nothing when the item did not exist.
    return response.Attributes ? unmarshalItem(response.Attributes) : { pk, sk };
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    const expressions = new Expressions();
    const conditionExpression = expressions.condition(condition);
    await this.#send('delete', () =>
      this.#client.send(
        new DeleteItemCommand({ TableName: this.#table, Key: keyOf(pk, sk), ConditionExpression: conditionExpression, ...expressions.placeholders() }),
      ),
    );
  }

  async query(pk: string, options: QueryOptions = {}): Promise<Item[]> {
    const limit = options.limit ?? Infinity;
    if (limit <= 0) return [];
    const plan = planSortKeyCondition(options);
    if (plan === 'empty') return [];

    const expressions = new Expressions();
    const keyCondition = [`${expressions.name('pk')} = ${expressions.value(pk)}`];
    if (plan.keyCondition) keyCondition.push(plan.keyCondition(expressions.name('sk'), (value) => expressions.value(value)));
    const items: Item[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.#table,
        KeyConditionExpression: keyCondition.join(' AND '),
        ...expressions.placeholders(),
        ConsistentRead: true,
        ScanIndexForward: !options.reverse,
        ExclusiveStartKey: startKey,
        // Up to `excluded` of the returned items may be dropped below, so ask for that many more.
        Limit: Number.isFinite(limit) ? limit - items.length + plan.excluded.length : undefined,
      };
      const response = await this.#send('query', () => this.#client.send(new QueryCommand(input)));
      for (const raw of response.Items ?? []) {
        const item = unmarshalItem(raw);
        if (plan.excluded.includes(item.sk)) continue;
        items.push(item);
        if (items.length >= limit) return items;
      }
      startKey = response.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  async #send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translate(error, what);
    }
  }
}

interface SortKeyPlan {
  /** Builds the sort-key part of KeyConditionExpression from the placeholders for `sk` and a value. */
  readonly keyCondition?: (sk: string, value: (v: string) => string) => string;
  /** Exclusive endpoints of a BETWEEN, filtered out here: a FilterExpression may not name key attributes. */
  readonly excluded: readonly string[];
}

/**
 * DynamoDB allows one sort-key condition: a single comparison, or an inclusive BETWEEN. The port allows
 * any mix of gte/gt/lte/lt, so: take the tighter bound on each side, use BETWEEN when both sides are
 * bounded and drop exclusive endpoints from the results, and answer empty ranges without a request
 * (BETWEEN with low > high is a ValidationException, not an empty result).
 */
function planSortKeyCondition(options: QueryOptions): SortKeyPlan | 'empty' {
  let lower: { value: string; inclusive: boolean } | undefined;
  if (options.gte !== undefined) lower = { value: options.gte, inclusive: true };
  if (options.gt !== undefined && (!lower || compareUtf8(options.gt, lower.value) >= 0)) lower = { value: options.gt, inclusive: false };
  let upper: { value: string; inclusive: boolean } | undefined;
  if (options.lte !== undefined) upper = { value: options.lte, inclusive: true };
  if (options.lt !== undefined && (!upper || compareUtf8(options.lt, upper.value) <= 0)) upper = { value: options.lt, inclusive: false };

  if (lower && upper) {
    const order = compareUtf8(lower.value, upper.value);
    if (order > 0 || (order === 0 && !(lower.inclusive && upper.inclusive))) return 'empty';
    const low = lower.value;
    const high = upper.value;
    return {
      keyCondition: (sk, value) => `${sk} BETWEEN ${value(low)} AND ${value(high)}`,
      excluded: [...(lower.inclusive ? [] : [low]), ...(upper.inclusive ? [] : [high])],
    };
  }
  const bound = lower ?? upper;
  if (!bound) return { excluded: [] };
  const operator = lower ? (lower.inclusive ? '>=' : '>') : upper?.inclusive ? '<=' : '<';
  return { keyCondition: (sk, value) => `${sk} ${operator} ${value(bound.value)}`, excluded: [] };
}

/** DynamoDB orders strings by their UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Collects placeholders while expressions are built; DynamoDB rejects unused ones, so only used ones are added. */
class Expressions {
  readonly #names: Record<string, string> = {};
  readonly #nameOf = new Map<string, string>();
  readonly #values: Record<string, AttributeValue> = {};
  #valueCount = 0;

  name(attribute: string): string {
    let placeholder = this.#nameOf.get(attribute);
    if (!placeholder) {
      placeholder = `#n${this.#nameOf.size}`;
      this.#nameOf.set(attribute, placeholder);
      this.#names[placeholder] = attribute;
    }
    return placeholder;
  }

  value(value: Scalar): string {
    const placeholder = `:v${this.#valueCount++}`;
    this.#values[placeholder] = marshalScalar(value);
    return placeholder;
  }

  placeholders(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } {
    return {
      ...(this.#nameOf.size > 0 ? { ExpressionAttributeNames: { ...this.#names } } : {}),
      ...(this.#valueCount > 0 ? { ExpressionAttributeValues: { ...this.#values } } : {}),
    };
  }

  condition(condition: Condition | undefined): string | undefined {
    if (!condition) return undefined;
    const parts: Expression[] = [];
    if (condition.itemExists === true) parts.push(atom(`attribute_exists(${this.name('pk')})`));
    if (condition.itemExists === false) parts.push(atom(`attribute_not_exists(${this.name('pk')})`));
    for (const clause of condition.where ?? []) parts.push(this.#clause(clause));
    return parts.length > 0 ? and(parts).text : undefined;
  }

  #clause(clause: Clause): Expression {
    if ('anyOf' in clause) {
      if (clause.anyOf.length === 0) return this.#never(); // some() of nothing is false
      return or(clause.anyOf.map((inner) => this.#clause(inner)));
    }
    switch (clause.op) {
      case 'exists':
        return atom(`attribute_exists(${this.name(clause.attr)})`);
      case 'notExists':
        return atom(`attribute_not_exists(${this.name(clause.attr)})`);
      case '<>': {
        // The port: an absent attribute fails every comparison, `<>` included. DynamoDB treats
        // `missing <> :v` as true, so require the attribute explicitly.
        const name = this.name(clause.attr);
        return and([atom(`attribute_exists(${name})`), atom(`${name} <> ${this.value(clause.value)}`)]);
      }
      case '=':
        return atom(`${this.name(clause.attr)} = ${this.value(clause.value)}`);
    }
    if (typeof clause.value === 'boolean') {
      // DynamoDB rejects ordering operators on BOOL. In the port, booleans are only equal or not:
      // `<=`/`>=` hold exactly when equal, `<`/`>` never.
      if (clause.op === '<' || clause.op === '>') return this.#never();
      return atom(`${this.name(clause.attr)} = ${this.value(clause.value)}`);
    }
    return atom(`${this.name(clause.attr)} ${clause.op} ${this.value(clause.value)}`);
  }

  /** A condition that is always false, for empty `anyOf` and impossible comparisons. */
  #never(): Expression {
    const pk = this.name('pk');
    return and([atom(`attribute_exists(${pk})`), atom(`attribute_not_exists(${pk})`)]);
  }

  /**
   * The port applies set, then add, then remove (item-semantics.ts applyUpdate). DynamoDB refuses an
   * expression that names one attribute twice, so fold overlaps first: a removed attribute is only
   * removed, and set-then-add becomes a set of the sum.
   */
  update(changes: UpdateChanges): string | undefined {
    const removed = new Set(changes.remove ?? []);
    for (const attr of [...Object.keys(changes.set ?? {}), ...Object.keys(changes.add ?? {}), ...removed]) {
      if (attr === 'pk' || attr === 'sk') throw new TypeError(`cannot update key attribute ${attr}`);
    }
    const sets = new Map<string, Scalar>(Object.entries(changes.set ?? {}).filter(([attr]) => !removed.has(attr)));
    const adds = new Map<string, bigint>();
    for (const [attr, delta] of Object.entries(changes.add ?? {})) {
      if (removed.has(attr)) continue;
      const setTo = sets.get(attr);
      if (setTo === undefined) adds.set(attr, delta);
      else if (typeof setTo === 'bigint') sets.set(attr, setTo + delta);
      else throw new TypeError(`cannot add to non-integer attribute ${attr}`);
    }
    const set = [...sets].map(([attr, value]) => `${this.name(attr)} = ${this.value(value)}`);
    const add = [...adds].map(([attr, delta]) => `${this.name(attr)} ${this.value(delta)}`);
    const remove = [...removed].map((attr) => this.name(attr));
    const clauses = [
      set.length > 0 ? `SET ${set.join(', ')}` : '',
      add.length > 0 ? `ADD ${add.join(', ')}` : '',
      remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    ].filter((clause) => clause !== '');
    return clauses.length > 0 ? clauses.join(' ') : undefined;
  }
}

/**
 * A condition expression and its top operator. DynamoDB refuses redundant parentheses (`((a))` is a
 * ValidationException), so they are placed by precedence only: AND binds tighter than OR, so an OR
 * inside an AND is parenthesised and nothing else is; nested ANDs and ORs are flattened.
 */
interface Expression {
  readonly text: string;
  readonly kind: 'atom' | 'and' | 'or';
}

function atom(text: string): Expression {
  return { text, kind: 'atom' };
}

function and(parts: readonly Expression[]): Expression {
  if (parts.length === 1) return parts[0];
  return { text: parts.map((part) => (part.kind === 'or' ? `(${part.text})` : part.text)).join(' AND '), kind: 'and' };
}

function or(parts: readonly Expression[]): Expression {
  if (parts.length === 1) return parts[0];
  return { text: parts.map((part) => part.text).join(' OR '), kind: 'or' };
}

function keyOf(pk: string, sk: string): Record<string, AttributeValue> {
  return { pk: { S: pk }, sk: { S: sk } };
}

function marshalScalar(value: Scalar): AttributeValue {
  if (value instanceof Uint8Array) return { B: value };
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'bigint':
      return { N: value.toString() };
    case 'boolean':
      return { BOOL: value };
    default:
      throw new TypeError(`unsupported attribute value of type ${typeof value}: integers must be bigint`);
  }
}

function marshalItem(item: Item): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [attr, value] of Object.entries(item)) out[attr] = marshalScalar(value);
  return out;
}

function unmarshalItem(raw: Record<string, AttributeValue>): Item {
  const out: Record<string, Scalar> = {};
  for (const [attr, value] of Object.entries(raw)) {
    if (value.S !== undefined) out[attr] = value.S;
    else if (value.N !== undefined) out[attr] = BigInt(value.N);
    else if (value.BOOL !== undefined) out[attr] = value.BOOL;
    else if (value.B !== undefined) out[attr] = new Uint8Array(value.B.buffer, value.B.byteOffset, value.B.length);
    else throw new TypeError(`attribute ${attr} has a type this adapter never writes: ${Object.keys(value).join()}`);
  }
  return out as Item;
}

function translate(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const message = `dynamodb ${what}: ${describeAwsError(error)}`;
  switch (classifyAwsError(error)) {
    case 'conditionFailed':
      return new ConditionFailedError(message, error);
    case 'throttled':
      return new ThrottledError(message, error);
    case 'unavailable':
      return new UnavailableError(message, error);
    case 'notFound':
    case 'invalidRange':
    case 'rejected':
      return new StorageError(message, { retriable: false, cause: error });
  }
}
