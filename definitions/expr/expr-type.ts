/** Type inference and checking of record expressions against a source schema. */
import { formatExpr, type ExprNode } from './expr.ts';
import { resolvePath, type RecordType } from '../record-schema.ts';
import type { ValueType } from '../../core/types.ts';

export interface ExprType {
  type: ValueType | 'null';
  /** One value per array element (`orderItems[].category`). */
  multi: boolean;
}

/** Infers an expression's type, or returns the first problem, naming the sub-expression. */
export function inferExprType(schema: RecordType, node: ExprNode): ExprType | { error: string } {
  const sub = (n: ExprNode): ExprType | { error: string } => inferExprType(schema, n);
  switch (node.op) {
    case 'col': {
      const r = resolvePath(schema, node.path);
      return 'error' in r ? r : { type: r.type, multi: r.multi };
    }
    case 'lit':
      return {
        type:
          node.value === null
            ? 'null'
            : typeof node.value === 'string'
              ? 'string'
              : typeof node.value === 'boolean'
                ? 'bool'
                : Number.isInteger(node.value)
                  ? 'int64'
                  : 'float64',
        multi: false,
      };
    case 'toNumber': {
      const a = sub(node.arg);
      if ('error' in a) return a;
      if (a.type === 'bool')
        return { error: `number(${formatExpr(node.arg)}): cannot turn a bool into a number` };
      return { type: 'float64', multi: a.multi };
    }
    case 'coalesce': {
      let t: ExprType = { type: 'null', multi: false };
      for (const a of node.args) {
        const at = sub(a);
        if ('error' in at) return at;
        if (at.multi) return { error: `coalesce cannot take an array path (${formatExpr(a)})` };
        if (t.type === 'null') t = at;
        else if (at.type !== 'null' && !compatible(t.type, at.type)) {
          return { error: `${formatExpr(node)}: arguments mix ${t.type} and ${at.type}` };
        }
      }
      return t;
    }
    case 'and':
    case 'or':
    case 'not':
    case 'isNull':
    case 'isNotNull':
    case 'in': {
      const args = 'args' in node ? node.args : [node.arg];
      for (const a of args) {
        const at = sub(a);
        if ('error' in at) return at;
        if (at.multi)
          return { error: `${formatExpr(node)}: array paths can only be aggregation inputs` };
        if (
          (node.op === 'and' || node.op === 'or' || node.op === 'not') &&
          at.type !== 'bool' &&
          at.type !== 'null'
        ) {
          return { error: `${formatExpr(node)}: "${formatExpr(a)}" is ${at.type}, not bool` };
        }
        if (node.op === 'in') {
          const bad = node.values.find((v) => !compatible(at.type, litType(v)));
          if (bad !== undefined)
            return { error: `${formatExpr(node)}: ${JSON.stringify(bad)} is not a ${at.type}` };
        }
      }
      return { type: 'bool', multi: false };
    }
    default: {
      const l = sub(node.left);
      if ('error' in l) return l;
      const r = sub(node.right);
      if ('error' in r) return r;
      if (l.multi || r.multi)
        return { error: `${formatExpr(node)}: array paths can only be aggregation inputs` };
      if (!compatible(l.type, r.type)) {
        return { error: `${formatExpr(node)}: compares ${l.type} with ${r.type}` };
      }
      return { type: 'bool', multi: false };
    }
  }
}

function litType(v: unknown): ValueType {
  return typeof v === 'string'
    ? 'string'
    : typeof v === 'boolean'
      ? 'bool'
      : Number.isInteger(v)
        ? 'int64'
        : 'float64';
}

const numeric = (t: string): boolean => t === 'int64' || t === 'float64';

/** Same type, both numeric, or one side null. */
export function compatible(a: ValueType | 'null', b: ValueType | 'null'): boolean {
  return a === b || a === 'null' || b === 'null' || (numeric(a) && numeric(b));
}
