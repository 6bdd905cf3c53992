/** `$(( ))` arithmetic: integers, + - * / %, comparisons, && ||, !, parentheses, names and `=`/`+=`. */

export class ArithmeticError extends Error {}

export function evalArithmetic(
  expr: string,
  get: (name: string) => string | undefined,
  set: (name: string, value: number) => void,
): number {
  const tokens = expr.match(/\s*(\d+|[A-Za-z_][A-Za-z0-9_]*|\+\+|--|\+=|-=|\*=|\/=|==|!=|<=|>=|&&|\|\||[-+*/%()<>!=])\s*/g);
  if ((tokens ?? []).join('').replace(/\s/g, '') !== expr.replace(/\s/g, '')) throw new ArithmeticError(`arithmetic syntax error: "${expr}"`);
  const toks = (tokens ?? []).map((t) => t.trim());
  let pos = 0;
  const peek = () => toks[pos];
  const num = (name: string) => {
    const v = get(name);
    return v === undefined || v === '' ? 0 : Number.parseInt(v, 10) || 0;
  };

  const primary = (): number => {
    const t = toks[pos++];
    if (t === undefined) throw new ArithmeticError('arithmetic syntax error');
    if (t === '(') {
      const v = assign();
      if (toks[pos++] !== ')') throw new ArithmeticError('arithmetic syntax error: missing )');
      return v;
    }
    if (t === '-') return -primary();
    if (t === '+') return primary();
    if (t === '!') return primary() ? 0 : 1;
    if (/^\d+$/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) return num(t);
    throw new ArithmeticError(`arithmetic syntax error: "${expr}"`);
  };
  const binary = (ops: string[], next: () => number) => (): number => {
    let v = next();
    while (ops.includes(peek())) {
      const op = toks[pos++];
      const r = next();
      switch (op) {
        case '*': v = v * r; break;
        case '/': if (r === 0) throw new ArithmeticError('division by zero'); v = Math.trunc(v / r); break;
        case '%': if (r === 0) throw new ArithmeticError('division by zero'); v = v % r; break;
        case '+': v = v + r; break;
        case '-': v = v - r; break;
        case '<': v = Number(v < r); break;
        case '>': v = Number(v > r); break;
        case '<=': v = Number(v <= r); break;
        case '>=': v = Number(v >= r); break;
        case '==': v = Number(v === r); break;
        case '!=': v = Number(v !== r); break;
        case '&&': v = Number(!!v && !!r); break;
        case '||': v = Number(!!v || !!r); break;
      }
    }
    return v;
  };
  const mul = binary(['*', '/', '%'], primary);
  const add = binary(['+', '-'], mul);
  const cmp = binary(['<', '>', '<=', '>='], add);
  const eq = binary(['==', '!='], cmp);
  const and = binary(['&&'], eq);
  const or = binary(['||'], and);
  const assign = (): number => {
    const name = toks[pos];
    const op = toks[pos + 1];
    if (name && /^[A-Za-z_]/.test(name) && ['=', '+=', '-=', '*=', '/='].includes(op)) {
      pos += 2;
      const r = assign();
      const v = op === '=' ? r : op === '+=' ? num(name) + r : op === '-=' ? num(name) - r : op === '*=' ? num(name) * r : Math.trunc(num(name) / r);
      set(name, v);
      return v;
    }
    return or();
  };
  if (toks.length === 0) return 0;
  const v = assign();
  if (pos !== toks.length) throw new ArithmeticError(`arithmetic syntax error: "${expr}"`);
  return v;
}
