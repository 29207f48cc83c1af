import { mergeInternalComponents } from '@tarojs/shared';
import COMPONENTS from '../config/a11y-components.json';

/**
 * weapp: the runtime half of config/a11y-plugin.js — `aria-label` and `aria-role` added to the
 * runtime's component table, in the same order as in the generated templates, so that the
 * attribute numbering (p0, p1…) of both agrees. Must run before the first render.
 */
if (process.env.TARO_ENV === 'weapp') {
  const patch: Record<string, Record<string, string>> = {};
  for (const name of COMPONENTS as string[]) patch[name] = { 'aria-label': '', 'aria-role': '' };
  mergeInternalComponents(patch);
}
