import { type Program } from '@comsg/libcoproc';
export declare const capvTool: Program;
