/** Reads the `taskMemory.*` settings (table, defaults and limits: ./settings.ts) for a file or folder. */
import * as vscode from 'vscode';
import { CONFIG_SECTION, configFrom, type TaskMemoryConfig } from './settings';

export { CONFIG_SECTION, Setting, type TaskMemoryConfig } from './settings';

/** Settings for `scope` (a file or folder: its workspace folder's settings apply). */
export function readConfig(scope?: vscode.ConfigurationScope): TaskMemoryConfig {
  const configuration = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  return configFrom((setting) => configuration.get<unknown>(setting));
}
