import { quoteIdentifier } from '../infra/postgres.js';

/** The statements a batch needs: a transaction of the read-model database, whatever drives it. */
export interface ReadModelTransaction {
  query<Row = Record<string, unknown>>(sql: string, parameters?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/**
 * One table of a read model as a projection sees it during a batch: rows by primary key, changed in memory.
 * Nothing reaches the database until the batch is written, as one statement per kind of change per table.
 */
export interface TableView<Row, Key> {
  /** The current row, including changes made earlier in this batch; read-only to the handler. */
  get(key: Pick<Row, Extract<Key, keyof Row>>): Row | undefined;
  /** Inserts or replaces the whole row. */
  put(row: Row): void;
  /** Changes some columns of the row if it exists; nothing otherwise. */
  update(key: Pick<Row, Extract<Key, keyof Row>>, change: Partial<Omit<Row, Extract<Key, keyof Row>>>): void;
  delete(key: Pick<Row, Extract<Key, keyof Row>>): void;
}

/** Where a key stands within a batch. `base` is what the database held before the batch, when it was loaded. */
type KeyState =
  | { kind: 'row'; row: Record<string, unknown> }
  | { kind: 'absent'; key: Record<string, unknown> }
  /** Only updates so far, to a row that may or may not exist: written as an UPDATE. */
  | { kind: 'changed'; change: Record<string, unknown> };

export interface TableColumn {
  name: string;
  /** As format_type prints it; the type of the column in jsonb_to_recordset. */
  type: string;
}

export interface TableShape {
  /** The table as projections name it. */
  table: string;
  /** Where its rows are in the database (a rebuild writes to a table beside the live one). */
  name: string;
  key: readonly string[];
  /** Writable columns (generated ones left out), in table order. */
  columns: readonly TableColumn[];
}

/** A load is needed before the batch can be decided: the keys whose database rows a projection asked for. */
class RowsNeeded extends Error {}

class TableBatch {
  readonly states = new Map<string, KeyState>();
  /** Rows as the database held them, for keys loaded before this pass (undefined: no such row). */
  readonly loaded = new Map<string, Record<string, unknown> | undefined>();
  /** Keys asked for that were not loaded; collected over a discovery pass. */
  readonly wanted = new Map<string, Record<string, unknown>>();

  constructor(readonly shape: TableShape) {}

  keyOf(values: Record<string, unknown>): string {
    return this.shape.key.length === 1 ? String(values[this.shape.key[0]!]) : JSON.stringify(this.shape.key.map((column) => values[column]));
  }

  keyColumns(values: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(this.shape.key.map((column) => [column, values[column]]));
  }

  reset(): void {
    this.states.clear();
  }

  private current(id: string, key: Record<string, unknown>, discovering: boolean): Record<string, unknown> | undefined {
    const state = this.states.get(id);
    if (state?.kind === 'row') return state.row;
    if (state?.kind === 'absent') return undefined;
    // A loaded key's changes are applied to its row at once, so a loaded key never stands as 'changed'.
    if (this.loaded.has(id)) return this.loaded.get(id);
    this.wanted.set(id, this.keyColumns(key));
    if (discovering) return undefined;
    throw new RowsNeeded();
  }

  view(discovering: () => boolean): TableView<any, any> {
    return {
      // Rows are the batch's own: a handler reads them and changes them only through put, update and delete.
      get: (key) => this.current(this.keyOf(key), key, discovering()),
      put: (row) => {
        this.states.set(this.keyOf(row), { kind: 'row', row: { ...row } });
      },
      update: (key, change) => {
        const id = this.keyOf(key);
        const state = this.states.get(id);
        if (state?.kind === 'absent') return;
        if (state?.kind === 'row') {
          Object.assign(state.row, change);
          return;
        }
        if (this.loaded.has(id)) {
          const base = this.loaded.get(id);
          if (!base) return;
          const previous = state?.kind === 'changed' ? state.change : {};
          this.states.set(id, { kind: 'row', row: { ...base, ...previous, ...change } });
          return;
        }
        if (state?.kind === 'changed') Object.assign(state.change, change);
        else this.states.set(id, { kind: 'changed', change: { ...this.keyColumns(key), ...change } });
      },
      delete: (key) => {
        this.states.set(this.keyOf(key), { kind: 'absent', key: this.keyColumns(key) });
      },
    };
  }
}

/**
 * Applies a batch of events to read-model tables set-based: the projections' handlers change rows in memory
 * (loading, in one query per table, only rows they read), then each table is written with one DELETE, one
 * upsert and one UPDATE per set of changed columns. Handlers are pure, so a batch that turns out to need rows
 * it did not load is simply run again once they are loaded.
 */
export class ReadModelBatch {
  private readonly tables = new Map<string, TableBatch>();
  private discovering = true;

  constructor(shapes: readonly TableShape[]) {
    for (const shape of shapes) this.tables.set(shape.table, new TableBatch(shape));
  }

  /** The views handlers receive, by table. */
  views(): Record<string, TableView<any, any>> {
    return Object.fromEntries([...this.tables].map(([name, table]) => [name, table.view(() => this.discovering)]));
  }

  /**
   * Runs `apply` (every handler of the batch, in log order) until it needed no row it had not loaded, then
   * writes the outcome. `apply` must start from nothing each time: it is called once per pass.
   */
  async run(tx: ReadModelTransaction, apply: () => void): Promise<void> {
    const maxPasses = 5;
    for (let pass = 1; ; pass++) {
      for (const table of this.tables.values()) table.reset();
      this.discovering = pass === 1;
      try {
        apply();
      } catch (error) {
        if (!(error instanceof RowsNeeded)) throw error;
      }
      const wanted = [...this.tables.values()].filter((table) => table.wanted.size > 0);
      if (wanted.length === 0) break;
      if (pass === maxPasses) throw new Error('a projection kept asking for rows it had not asked for before');
      for (const table of wanted) await loadRows(tx, table);
    }
    for (const table of this.tables.values()) await writeTable(tx, table);
  }
}

async function loadRows(tx: ReadModelTransaction, table: TableBatch): Promise<void> {
  const { shape } = table;
  const keys = [...table.wanted.values()];
  for (const id of table.wanted.keys()) table.loaded.set(id, undefined);
  table.wanted.clear();
  const keyColumns = shape.columns.filter((column) => shape.key.includes(column.name));
  const { rows } = await tx.query<Record<string, unknown>>(
    `select t.* from ${quoteIdentifier(shape.name)} t
       join jsonb_to_recordset($1::jsonb) as k(${columnList(keyColumns)}) on ${keyJoin(shape, 't', 'k')}`,
    [JSON.stringify(keys)],
  );
  for (const row of rows) table.loaded.set(table.keyOf(row), row);
}

async function writeTable(tx: ReadModelTransaction, table: TableBatch): Promise<void> {
  const { shape } = table;
  const deletes: Record<string, unknown>[] = [];
  const puts: Record<string, unknown>[] = [];
  const updatesByColumns = new Map<string, Record<string, unknown>[]>();
  for (const [id, state] of table.states) {
    if (state.kind === 'absent') {
      if (!table.loaded.has(id) || table.loaded.get(id) !== undefined) deletes.push(state.key);
    } else if (state.kind === 'row') {
      puts.push(state.row);
    } else {
      const columns = Object.keys(state.change).filter((column) => !shape.key.includes(column)).sort();
      if (columns.length === 0) continue;
      const signature = columns.join(',');
      const group = updatesByColumns.get(signature) ?? [];
      group.push(state.change);
      updatesByColumns.set(signature, group);
    }
  }
  const target = quoteIdentifier(shape.name);
  const keyColumns = shape.columns.filter((column) => shape.key.includes(column.name));
  if (deletes.length > 0) {
    await tx.query(
      `delete from ${target} t using jsonb_to_recordset($1::jsonb) as k(${columnList(keyColumns)}) where ${keyJoin(shape, 't', 'k')}`,
      [JSON.stringify(deletes)],
    );
  }
  if (puts.length > 0) {
    const names = shape.columns.map((column) => quoteIdentifier(column.name)).join(', ');
    const nonKey = shape.columns.filter((column) => !shape.key.includes(column.name));
    const onConflict =
      nonKey.length === 0
        ? 'do nothing'
        : `do update set ${nonKey.map((column) => `${quoteIdentifier(column.name)} = excluded.${quoteIdentifier(column.name)}`).join(', ')}`;
    await tx.query(
      `insert into ${target} (${names}) select ${names} from jsonb_to_recordset($1::jsonb) as r(${columnList(shape.columns)})
       on conflict (${shape.key.map(quoteIdentifier).join(', ')}) ${onConflict}`,
      [JSON.stringify(puts)],
    );
  }
  for (const [signature, changes] of updatesByColumns) {
    const changed = signature.split(',');
    const columns = shape.columns.filter((column) => changed.includes(column.name) || shape.key.includes(column.name));
    await tx.query(
      `update ${target} t set ${changed.map((column) => `${quoteIdentifier(column)} = r.${quoteIdentifier(column)}`).join(', ')}
         from jsonb_to_recordset($1::jsonb) as r(${columnList(columns)}) where ${keyJoin(shape, 't', 'r')}`,
      [JSON.stringify(changes)],
    );
  }
}

function columnList(columns: readonly TableColumn[]): string {
  return columns.map((column) => `${quoteIdentifier(column.name)} ${column.type}`).join(', ');
}

function keyJoin(shape: TableShape, left: string, right: string): string {
  return shape.key.map((column) => `${left}.${quoteIdentifier(column)} = ${right}.${quoteIdentifier(column)}`).join(' and ');
}

/** The writable columns of a table and their types, read from the catalog (temporary tables of this session first). */
export async function describeTable(tx: ReadModelTransaction, table: string, key: readonly string[], name = table): Promise<TableShape> {
  const { rows } = await tx.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      order by a.attnum`,
    [quoteIdentifier(name)],
  );
  if (rows.length === 0) throw new Error(`read-model table ${name} does not exist`);
  for (const column of key) {
    if (!rows.some((row) => row.name === column)) throw new Error(`read-model table ${name} has no key column ${column}`);
  }
  return { table, name, key, columns: rows };
}
