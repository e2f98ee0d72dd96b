// Everything a Hue-S SDK user needs: #include <hues/hues.h>
#pragma once

#include "hues/client.h"
#include "hues/error.h"
#include "hues/http.h"
#include "hues/identity.h"
#include "hues/models.h"
#include "hues/options.h"
#include "hues/outbox.h"
#include "hues/webhooks.h"
