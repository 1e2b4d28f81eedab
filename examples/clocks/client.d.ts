import { type Program } from '@comsg/libcoproc';
export declare const clockClient: Program;
