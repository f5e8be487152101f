/** What a trigger's function gets from the stack when neither it nor its service sets a value. */
/** Memory and timeout for functions whose service and route set neither (`functionDefaults` in the stack file). */
export interface FunctionDefaults {
    memoryMb: number;
    timeoutSeconds: number;
}
