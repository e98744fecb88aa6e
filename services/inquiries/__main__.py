from services.inquiries.app import DEFINITION
from services.runtime.service.serve import serve

if __name__ == "__main__":
    serve(DEFINITION.name, "services.inquiries.app:app_from_env", DEFINITION.load_settings())
