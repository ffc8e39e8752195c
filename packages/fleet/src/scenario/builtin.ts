/**
 * The built-in scenarios: the YAML files in packages/fleet/scenarios/, each named by its file name
 * (without `.yaml`), which is also its `name`. `loadScenario` takes a built-in's name or a path.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseScenario, type Scenario, ScenarioError } from './scenario.ts'

const DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url))

/** The built-in scenarios' names, sorted. */
export function builtinScenarios(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort()
}

/** A built-in scenario by name, or a scenario file (YAML or JSON) by path. Throws ScenarioError. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtin = builtinScenarios().includes(nameOrPath)
  const path = builtin ? `${DIR}${nameOrPath}.yaml` : nameOrPath
  if (!builtin && !(existsSync(path) && statSync(path).isFile()))
    throw new ScenarioError(nameOrPath, [
      {
        field: '(file)',
        message: `no such file, nor a built-in scenario (${builtinScenarios().join(', ')})`,
      },
    ])
  const scenario = parseScenario(readFileSync(path, 'utf8'), builtin ? nameOrPath : basename(path))
  if (builtin && scenario.name !== nameOrPath)
    throw new ScenarioError(nameOrPath, [
      { field: 'name', message: `is '${scenario.name}', not the file's name` },
    ])
  return scenario
}
