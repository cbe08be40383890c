/* binlogfs — the engine's one error domain (see include/binlogfs/error.h). */
#include <binlogfs/error.h>

G_DEFINE_QUARK(binlogfs-error-quark, bl_error)
