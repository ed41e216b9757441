/**
 * Exported functions of a JavaScript/TypeScript module, found on its syntax tree (acorn, with the
 * TypeScript and JSX plugin for TypeScript), so comments, strings, templates, regular expressions
 * and decorators cannot fool it. A file that does not parse (half typed) gives `undefined`.
 */
import { identifierName, isFunction, isNode, keyName, parse, unwrap, type Any, type Located } from './jsSyntax';
import type { TaskFunction } from './taskFunctions';

function lineOf(node: Located): number {
  return (node.loc?.start.line ?? 1) - 1;
}

/** `exports.x`, `module.exports.x` → 'x'; `module.exports` → ''; anything else undefined. */
function exportsTarget(node: unknown): string | undefined {
  if (!isNode(node) || node.type !== 'MemberExpression') return undefined;
  const object = node.object;
  const property = keyName(node.property, node.computed === true);
  if (identifierName(object) === 'module' && property === 'exports') return '';
  if (identifierName(object) === 'exports' && property !== undefined) return property;
  if (property !== undefined && exportsTarget(object) === '') return property;
  return undefined;
}

export function findJsTaskFunctions(text: string, language: 'javascript' | 'typescript'): TaskFunction[] | undefined {
  const program = parse(text, language);
  if (!program) return undefined;
  const body = Array.isArray(program.body) ? (program.body as unknown[]).filter(isNode) : [];

  // Module-level functions by name, for `module.exports = { a }`, `exports.a = a`, `export { a as b }`.
  const declared = new Map<string, number>();
  const declare = (statement: Any): void => {
    if (statement.type === 'FunctionDeclaration') {
      const name = identifierName(statement.id);
      if (name) declared.set(name, lineOf(statement));
    } else if (statement.type === 'VariableDeclaration' && Array.isArray(statement.declarations)) {
      for (const declarator of (statement.declarations as unknown[]).filter(isNode)) {
        const name = identifierName(declarator.id);
        if (name && isFunction(declarator.init)) declared.set(name, lineOf(declarator));
      }
    }
  };
  for (const statement of body) declare(statement.type === 'ExportNamedDeclaration' && isNode(statement.declaration) ? statement.declaration : statement);

  const found = new Map<string, TaskFunction>();
  const add = (name: string, line: number): void => {
    if (!found.has(name)) found.set(name, { name, line, kind: 'function' });
  };
  /** A function value, or a name of a module-level function: where its lens goes. */
  const functionLine = (value: unknown, at: Located): number | undefined => {
    if (isFunction(value)) return lineOf(at);
    const ref = identifierName(value);
    return ref !== undefined ? declared.get(ref) : undefined;
  };

  for (const statement of body) {
    if (statement.type === 'ExportNamedDeclaration') {
      const declaration = isNode(statement.declaration) ? statement.declaration : undefined;
      if (declaration?.type === 'FunctionDeclaration') {
        const name = identifierName(declaration.id);
        if (name) add(name, lineOf(statement));
      } else if (declaration?.type === 'VariableDeclaration' && Array.isArray(declaration.declarations)) {
        for (const declarator of (declaration.declarations as unknown[]).filter(isNode)) {
          const name = identifierName(declarator.id);
          if (name && isFunction(declarator.init)) add(name, lineOf(declarator));
        }
      } else if (!statement.source && Array.isArray(statement.specifiers)) {
        // export { a, b as c } (not re-exports from another module: their functions live there)
        for (const specifier of (statement.specifiers as unknown[]).filter(isNode)) {
          const local = keyName(specifier.local);
          const exported = keyName(specifier.exported);
          const line = local !== undefined ? declared.get(local) : undefined;
          if (exported !== undefined && line !== undefined && specifier.exportKind !== 'type') add(exported, line);
        }
      }
    } else if (statement.type === 'ExportDefaultDeclaration') {
      const line = functionLine(statement.declaration, statement);
      if (line !== undefined) add('default', line);
    } else if (statement.type === 'ExpressionStatement') {
      const expression = unwrap(statement.expression);
      if (expression?.type !== 'AssignmentExpression' || expression.operator !== '=') continue;
      const target = exportsTarget(expression.left);
      if (target === undefined) continue;
      if (target !== '') {
        const line = functionLine(expression.right, statement);
        if (line !== undefined) add(target, line);
        continue;
      }
      // module.exports = { a, b: fn, c() {}, d: function () {} }
      const object = unwrap(expression.right);
      if (object?.type !== 'ObjectExpression' || !Array.isArray(object.properties)) continue;
      for (const property of (object.properties as unknown[]).filter(isNode)) {
        if (property.type !== 'Property' || property.kind !== 'init') continue;
        const name = keyName(property.key, property.computed === true);
        const line = name !== undefined ? functionLine(property.value, property) : undefined;
        if (name !== undefined && line !== undefined) add(name, line);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.line - b.line || (a.name < b.name ? -1 : 1));
}
