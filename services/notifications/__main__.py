from services.notifications.app import DEFINITION
from services.runtime.service.serve import serve

if __name__ == "__main__":
    serve(DEFINITION.name, "services.notifications.app:app_from_env", DEFINITION.load_settings())
