export declare function runClocksExample(print?: (line: string) => void): Promise<number>;
