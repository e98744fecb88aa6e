from services.runtime.service.serve import serve
from services.support.app import DEFINITION

if __name__ == "__main__":
    serve(DEFINITION.name, "services.support.app:app_from_env", DEFINITION.load_settings())
