"""SQL of the inquiries service, one module per capability (cases holds what they share): one
function per statement, connection first, Structs out."""
