/**
 * What config.ts lends the modules that parse their own variables: the
 * trimmed value of a variable and a list to add problems to. config.ts
 * stays the only reader of process.env.
 */
export interface EnvReader {
  /** The variable's text, trimmed; undefined when unset or blank. */
  readonly value: (name: string) => string | undefined;
  /** An integer >= min, `fallback` when unset; anything else is a problem. */
  readonly integerAtLeast: (name: string, fallback: number, min: number) => number;
  readonly problems: string[];
}

export function createEnvReader(env: NodeJS.ProcessEnv, problems: string[]): EnvReader {
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  return {
    value,
    integerAtLeast: (name, fallback, min) => {
      const text = value(name) ?? String(fallback);
      const number = Number(text);
      if (!Number.isInteger(number) || number < min) problems.push(`${name} must be an integer >= ${min}, got "${text}"`);
      return number;
    },
    problems,
  };
}
