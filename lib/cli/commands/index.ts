/** Every `phylogeny` command, in the order help lists them. */
import type { Command } from '../command';
import { demoCommand } from './demo';
import { detectCommand } from './detect';
import { evalCommand } from './eval';
import { infoCommand } from './info';
import { indexAddCommand } from './index-add';
import { indexMergeCommand } from './index-merge';
import { indexQueryCommand } from './index-query';
import { inspectCommand } from './inspect';
import { mergeCommand } from './merge';
import { methodsCommand } from './methods';
import { scanCommand } from './scan';
import { trainCommand } from './train';
import { zooCommand } from './zoo';

export const COMMANDS: Command[] = [demoCommand, detectCommand, evalCommand, scanCommand, mergeCommand, indexAddCommand, indexQueryCommand, indexMergeCommand, zooCommand, trainCommand, inspectCommand, methodsCommand, infoCommand];
