import type { AccountUsageRow, UsageRow, UsageTotals } from '../../../domain/usage/usage-report.js';
import { builder } from '../builder.js';
import { AccountRef } from './account.js';
import { ModelRef } from './model.js';

const UsageGroupingRef = builder.enumType('UsageGrouping', {
  values: { MODEL: { description: 'One row per model.' }, DAY: { description: 'One row per UTC day.' } } as const,
});

const UsageTotalsRef = builder.interfaceRef<UsageTotals>('UsageTotals').implement({
  description: 'Completions started in a range, summed.',
  fields: (t) => ({
    completions: t.exposeInt('completions'),
    failed: t.exposeInt('failed', { description: 'Of which FAILED or INTERRUPTED (never charged).' }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    cost: t.field({ type: 'Money', description: 'What was charged.', resolve: (r) => r.cost }),
    meanTimeToFirstTokenMs: t.exposeFloat('meanTimeToFirstTokenMs', { nullable: true }),
  }),
});

const UsageRowRef = builder.objectRef<UsageRow>('UsageRow').implement({
  description: 'Usage of one model and/or day.',
  interfaces: [UsageTotalsRef],
  fields: (t) => ({
    model: t.field({ type: ModelRef, nullable: true, description: 'Set when grouped by MODEL.', resolve: (r, _args, { loaders }) => (r.modelId ? loaders.model.load(r.modelId) : null) }),
    day: t.exposeString('day', { nullable: true, description: 'YYYY-MM-DD (UTC); set when grouped by DAY.' }),
  }),
});

const AccountUsageRef = builder.objectRef<AccountUsageRow>('AccountUsage').implement({
  description: 'Usage of one account.',
  interfaces: [UsageTotalsRef],
  fields: (t) => ({
    accountId: t.exposeID('accountId'),
    accountName: t.exposeString('accountName'),
  }),
});

builder.objectField(AccountRef, 'usage', (t) =>
  t.field({
    type: [UsageRowRef],
    description: 'Usage of completions started in [from, to) (default: the last 30 days; at most 366 days), grouped by model and/or day.',
    args: {
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      groupBy: t.arg({ type: [UsageGroupingRef], defaultValue: ['MODEL'] }),
    },
    resolve: (account, { from, to, groupBy }, { loaders }) => loaders.usageOf({ from, to }, groupBy ?? ['MODEL']).load(account.id),
  }),
);

builder.queryField('usageOverview', (t) =>
  t.field({
    type: [AccountUsageRef],
    description: 'Admin: usage of every account in [from, to) (default: the last 30 days), most expensive first.',
    args: {
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      first: t.arg.int({ defaultValue: 100, description: 'At most 1000 accounts.' }),
    },
    resolve: (_root, { from, to, first }, { viewer, domain }) => domain.usage.overview(viewer, { from, to }, first ?? 100),
  }),
);
