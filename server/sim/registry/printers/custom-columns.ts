/**
 * The table convertor of apiextensions-apiserver for custom resources
 * (pkg/registry/customresource/tableconvertor): NAME, then the version's
 * additionalPrinterColumns; a version without any gets a single AGE column.
 */
import type { KubeObject } from '../../types.js';
import { since } from './duration.js';
import { ageCol, col, nameCol, type ColumnDefinition } from './columns.js';
import { evaluateJsonPath, jsonPathText, parseJsonPath } from './jsonpath.js';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const CREATION_TIMESTAMP_DESCRIPTION = ageCol().description;

export function customResourceTable(columns: PrinterColumn[], objects: KubeObject[], now: Date) {
  const effective: PrinterColumn[] = columns.length
    ? columns
    : [{ name: 'Age', type: 'date', description: CREATION_TIMESTAMP_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' }];
  const parsed = effective.map((c) => {
    try {
      return parseJsonPath(c.jsonPath);
    } catch {
      return undefined;
    }
  });
  const columnDefinitions: ColumnDefinition[] = [
    nameCol(),
    ...effective.map((c) => col(c.name, c.type, c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`, c.priority ?? 0, c.format ?? '')),
  ];
  const rows = objects.map((object) => ({
    cells: [object.metadata?.name ?? '', ...effective.map((c, i) => cell(c, parsed[i], object, now))],
    object,
  }));
  return { columnDefinitions, rows };
}

function cell(column: PrinterColumn, steps: ReturnType<typeof parseJsonPath> | undefined, object: KubeObject, now: Date): unknown {
  if (!steps) return null;
  const results = evaluateJsonPath(steps, object);
  if (!results.length) return null;
  const value = results[0];
  if (column.type === 'string') return jsonPathText(value);
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      if (typeof value !== 'string') return null;
      return Number.isNaN(Date.parse(value)) ? '<invalid>' : since(value, now);
  }
  return null;
}
