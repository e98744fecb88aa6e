"""Message contracts shared by every Carebridge service and partner. msgspec and stdlib only."""
